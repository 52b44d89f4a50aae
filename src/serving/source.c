/* The file-system version source: lists a model's base path and picks the
 * versions its policy aspires to, like TensorFlow Serving's
 * FileSystemStoragePathSource (spec 1a "Startup semantics", 1d "Version policy"). */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/log.h"
#include "serving/internal.h"
#include "base/sort.h"

bool pl__parse_version(const char *s, int64_t *out) {
    while (isspace((unsigned char)*s)) s++;
    bool neg = false;
    if (*s == '+' || *s == '-') neg = *s++ == '-';
    if (!isdigit((unsigned char)*s)) return false;
    /* Accumulate negatively so that INT64_MIN parses. */
    int64_t v = 0;
    for (; isdigit((unsigned char)*s); s++) {
        int d = *s - '0';
        if (v < (INT64_MIN + d) / 10) return false;
        v = v * 10 - d;
    }
    while (isspace((unsigned char)*s)) s++;
    if (*s) return false;
    if (!neg) {
        if (v == INT64_MIN) return false;
        v = -v;
    }
    *out = v;
    return true;
}

void pl__aspired_free(pl__aspired *a, int num) {
    for (int i = 0; i < num; i++) free(a[i].path);
    free(a);
}

static char *join_path(const char *base, const char *child) {
    size_t a = strlen(base), b = strlen(child);
    while (a > 1 && base[a - 1] == '/') a--;
    char *p = malloc(a + 1 + b + 1);
    if (!p) return NULL;
    memcpy(p, base, a);
    p[a] = '/';
    memcpy(p + a + 1, child, b + 1);
    return p;
}

typedef struct child {
    int64_t version;
    char *name;
} child;

static int by_version_desc(const void *pa, const void *pb) {
    const child *a = pa, *b = pb;
    if (a->version != b->version) return a->version < b->version ? 1 : -1;
    return strcmp(a->name, b->name);
}

static void children_free(child *c, int n) {
    for (int i = 0; i < n; i++) free(c[i].name);
    free(c);
}

/* Numeric children of `dir`, one per version (the last name in sorted order wins,
 * with a warning like TensorFlow Serving's), highest version first. */
static pl_status list_versions(const char *dir, child **out, int *num) {
    *out = NULL;
    *num = 0;
    DIR *d = opendir(dir);
    if (!d) return pl_error(PL_NOT_FOUND, "Could not read directory %s: %s", dir, strerror(errno));
    child *c = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    pl_status st = NULL;
    while ((e = readdir(d))) {
        int64_t v;
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (!pl__parse_version(e->d_name, &v)) continue;
        if (n == cap) {
            int ncap = cap ? cap * 2 : 8;
            child *nc = realloc(c, sizeof *c * (size_t)ncap);
            if (!nc) {
                st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory listing %s", dir);
                break;
            }
            c = nc;
            cap = ncap;
        }
        c[n].version = v;
        c[n].name = pl__strdup(e->d_name);
        if (!c[n].name) {
            st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory listing %s", dir);
            break;
        }
        n++;
    }
    closedir(d);
    if (st) {
        children_free(c, n);
        return st;
    }
    if (n > 1) pl_qsort(c, (size_t)n, sizeof *c, by_version_desc);
    int w = 0;
    for (int i = 0; i < n; i++) {
        if (w > 0 && c[w - 1].version == c[i].version) {
            pl_log_warning("Duplicate version directories detected. Version %" PRId64
                           " will be loaded from %s, %s will be ignored.",
                           c[i].version, c[i].name, c[w - 1].name);
            free(c[w - 1].name);
            c[w - 1] = c[i];
            continue;
        }
        c[w++] = c[i];
    }
    *out = c;
    *num = w;
    return NULL;
}

static bool is_dir_or_file(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

static pl_status add_aspired(pl__aspired **a, int *n, const char *base, const char *child_name, int64_t v) {
    pl__aspired *na = realloc(*a, sizeof **a * (size_t)(*n + 1));
    if (!na) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    *a = na;
    na[*n].version = v;
    na[*n].path = join_path(base, child_name);
    if (!na[*n].path) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    (*n)++;
    return NULL;
}

static bool in_specific(const pl_model_config *cfg, int64_t v) {
    for (int i = 0; i < cfg->num_specific; i++)
        if (cfg->specific[i] == v) return true;
    return false;
}

/* The "specific" fast path: every listed version directory exists under its
 * canonical name, so the base path need not be listed. */
static pl_status specific_fast_path(const pl_model_config *cfg, pl__aspired **out, int *num, bool *done) {
    *done = false;
    if (cfg->num_specific == 0) {
        pl_log_warning("No specific versions requested for servable %s.", cfg->name);
        *done = true;
        return NULL;
    }
    char name[32];
    for (int i = 0; i < cfg->num_specific; i++) {
        snprintf(name, sizeof name, "%" PRId64, cfg->specific[i]);
        char *p = join_path(cfg->base_path, name);
        if (!p) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        bool exists = is_dir_or_file(p);
        free(p);
        if (!exists) return NULL;
    }
    for (int i = 0; i < cfg->num_specific; i++) {
        bool seen = false;
        for (int j = 0; j < i && !seen; j++) seen = cfg->specific[j] == cfg->specific[i];
        if (seen) continue;
        snprintf(name, sizeof name, "%" PRId64, cfg->specific[i]);
        PL_TRY(add_aspired(out, num, cfg->base_path, name, cfg->specific[i]));
    }
    *done = true;
    return NULL;
}

static pl_status select_versions(const pl_model_config *cfg, const child *c, int n, pl__aspired **out,
                                 int *num) {
    switch (cfg->policy) {
    case PL_POLICY_LATEST: {
        uint32_t want = cfg->latest_num_versions ? cfg->latest_num_versions : 1;
        int keep = (uint32_t)n < want ? n : (int)want;
        for (int i = 0; i < keep; i++) PL_TRY(add_aspired(out, num, cfg->base_path, c[i].name, c[i].version));
        return NULL;
    }
    case PL_POLICY_ALL:
        for (int i = 0; i < n; i++) PL_TRY(add_aspired(out, num, cfg->base_path, c[i].name, c[i].version));
        return NULL;
    case PL_POLICY_SPECIFIC:
        for (int i = 0; i < n; i++)
            if (in_specific(cfg, c[i].version))
                PL_TRY(add_aspired(out, num, cfg->base_path, c[i].name, c[i].version));
        for (int i = 0; i < cfg->num_specific; i++) {
            bool found = false;
            for (int j = 0; j < *num && !found; j++) found = (*out)[j].version == cfg->specific[i];
            if (!found)
                pl_log_warning("Version %" PRId64 " of servable %s, which was requested to be served as a "
                               "'specific' version in the servable's version policy, was not found in the "
                               "file system",
                               cfg->specific[i], cfg->name);
        }
        return NULL;
    }
    return pl_error(PL_INTERNAL, "Unhandled servable version_policy");
}

pl_status pl__poll_versions(const pl_model_config *cfg, pl__aspired **out, int *num) {
    *out = NULL;
    *num = 0;
    if (!is_dir_or_file(cfg->base_path))
        return pl_error(PL_INVALID_ARGUMENT,
                        "Could not find base path %s for servable %s with error NOT_FOUND: %s not found",
                        cfg->base_path, cfg->name, cfg->base_path);
    pl_status st = NULL;
    if (cfg->policy == PL_POLICY_SPECIFIC) {
        bool done;
        st = specific_fast_path(cfg, out, num, &done);
        if (st || done) goto out;
    }
    child *c;
    int n;
    st = list_versions(cfg->base_path, &c, &n);
    if (st) goto out;
    st = select_versions(cfg, c, n, out, num);
    children_free(c, n);
    if (!st && *num == 0)
        pl_log_warning("No versions of servable %s found under base path %s. Did you forget to name your leaf "
                       "directory as a number (eg. '/1/')?",
                       cfg->name, cfg->base_path);
out:
    if (st) {
        pl__aspired_free(*out, *num);
        *out = NULL;
        *num = 0;
    }
    return st;
}
