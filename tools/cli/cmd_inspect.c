/* plinth-cli inspect DIR: what a model directory holds, read offline — the
 * versions, each version's format, its signatures as plinth serves them, the
 * ops its graph uses, and any op plinth has no kernel for with the nodes that
 * use it. DIR may be a base path (numbered versions), one version directory
 * or a frozen .pb file. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "base/file.h"
#include "base/log.h"
#include "cli/cli.h"
#include "cli/modelfile.h"
#include "cli/opcensus.h"
#include "cli/show.h"
#include "runtime/model.h"

const char pl_cli_inspect_usage[] =
    "usage: plinth-cli [--json] inspect DIR [--tags serve]\n"
    "  DIR: a model base path (numbered versions), one version directory, or a frozen .pb file.\n"
    "  --tags: the SavedModel MetaGraph to load, as plinth's --saved_model_tags (default serve).\n"
    "  For each version: format, whether plinth loads it, its signatures, the ops its graph uses,\n"
    "  and every op plinth has no kernel for with the nodes that use it. No server is needed.\n";

/* Users listed per unsupported op before "... and N more". */
#define MAX_USERS_SHOWN 8

typedef struct version_report {
    const char *tags;            /* comma-separated MetaGraph tags, as --saved_model_tags */
    int64_t version;             /* -1: DIR itself is the version */
    const char *dir;
    pl_cli_model_file file;
    const Tensorflow__GraphDef *graph;   /* the served graph (borrowed from file) */
    pl_cli_op_census census;
    pl_model *model;             /* NULL when the load failed */
    pl_status load_error;
    double load_seconds;
    int64_t file_bytes;
} version_report;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Whether `tags` ("serve,gpu") names exactly the tag set of `info`, as the
 * loader matches them: order and repeats do not count. */
static bool tags_match(const char *tags, const Tensorflow__MetaGraphDef__MetaInfoDef *info) {
    size_t n = info ? info->n_tags : 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(info->tags[i]);
        bool found = false;
        for (const char *p = tags; *p && !found;) {
            size_t item = strcspn(p, ",");
            found = item == len && !strncmp(p, info->tags[i], len);
            p += item + (p[item] == ',');
        }
        if (!found) return false;
    }
    for (const char *p = tags; *p;) {
        size_t item = strcspn(p, ",");
        bool found = item == 0;
        for (size_t i = 0; i < n && !found; i++) found = strlen(info->tags[i]) == item && !strncmp(p, info->tags[i], item);
        if (!found) return false;
        p += item + (p[item] == ',');
    }
    return true;
}

static bool has_meta_graph(const Tensorflow__SavedModel *sm, const char *tags) {
    for (size_t i = 0; i < sm->n_meta_graphs; i++)
        if (sm->meta_graphs[i] && tags_match(tags, sm->meta_graphs[i]->meta_info_def)) return true;
    return false;
}

/* The MetaGraph plinth would serve for `tags`, else the first one (its ops
 * are still worth listing). */
static const Tensorflow__MetaGraphDef *serving_meta_graph(const Tensorflow__SavedModel *sm, const char *tags) {
    for (size_t i = 0; i < sm->n_meta_graphs; i++)
        if (sm->meta_graphs[i] && tags_match(tags, sm->meta_graphs[i]->meta_info_def)) return sm->meta_graphs[i];
    return sm->n_meta_graphs ? sm->meta_graphs[0] : NULL;
}

static pl_status examine(version_report *r) {
    PL_TRY(pl_cli_model_file_read(r->dir, &r->file));
    struct stat sb;
    r->file_bytes = stat(r->file.path, &sb) == 0 ? (int64_t)sb.st_size : 0;
    if (r->file.saved) {
        const Tensorflow__MetaGraphDef *mg = serving_meta_graph(r->file.saved, r->tags);
        r->graph = mg ? mg->graph_def : NULL;
    } else {
        r->graph = r->file.frozen;
    }
    const Tensorflow__GraphDef empty = TENSORFLOW__GRAPH_DEF__INIT;
    PL_TRY(pl_cli_op_census_take(r->graph ? r->graph : &empty, &r->census));
    double t0 = now_seconds();
    pl_model_options opt = {.tags = r->tags};
    r->load_error = pl_model_load(r->file.frozen ? r->file.path : r->dir, &opt, &r->model);
    r->load_seconds = now_seconds() - t0;
    return NULL;
}

static void report_deinit(version_report *r) {
    pl_cli_op_census_deinit(&r->census);
    pl_cli_model_file_deinit(&r->file);
    pl_model_free(r->model);
    pl_status_free(r->load_error);
}

static const char *format_name(const version_report *r) {
    return r->file.saved ? "tensorflow_savedmodel" : "tensorflow_graphdef";
}

static void print_tags(const Tensorflow__SavedModel *sm) {
    printf("  meta graphs ");
    for (size_t i = 0; i < sm->n_meta_graphs; i++) {
        const Tensorflow__MetaGraphDef__MetaInfoDef *info = sm->meta_graphs[i] ? sm->meta_graphs[i]->meta_info_def : NULL;
        printf("%s{", i ? ", " : "");
        for (size_t t = 0; info && t < info->n_tags; t++) printf("%s%s", t ? ", " : "", info->tags[t]);
        printf("}");
    }
    printf("\n");
}

static void print_text(const version_report *r) {
    if (r->version >= 0) printf("\nversion %" PRId64 "\n", r->version);
    char size[32];
    if (r->file_bytes >= 1000000) snprintf(size, sizeof size, "%.1f MB", r->file_bytes / 1e6);
    else snprintf(size, sizeof size, "%.1f kB", r->file_bytes / 1e3);
    printf("  format      %s (%s), %s, %s\n", r->file.saved ? "SavedModel" : "frozen GraphDef", format_name(r),
           r->file.path, size);
    if (r->file.saved) print_tags(r->file.saved);
    if (r->model) printf("  loads       yes, in %.2f s\n", r->load_seconds);
    else printf("  loads       no: %s\n", pl_status_message(r->load_error));
    if (r->file.saved && !has_meta_graph(r->file.saved, r->tags) && r->file.saved->n_meta_graphs) {
        const Tensorflow__MetaGraphDef__MetaInfoDef *info = r->file.saved->meta_graphs[0]->meta_info_def;
        printf("  hint        no meta graph is tagged exactly {%s}; load one with --tags ", r->tags);
        for (size_t t = 0; info && t < info->n_tags; t++) printf("%s%s", t ? "," : "", info->tags[t]);
        printf(" (plinth: --saved_model_tags)\n");
    }
    for (int s = 0; r->model && s < pl_model_num_signatures(r->model); s++)
        pl_cli_print_signature(stdout, pl_model_signature(r->model, s), 2);
    const pl_cli_op_census *c = &r->census;
    printf("  ops         %d node%s", c->num_nodes, c->num_nodes == 1 ? "" : "s");
    if (c->num_function_nodes) printf(" (%d in functions)", c->num_function_nodes);
    printf(", %d op type%s\n", c->num_ops, c->num_ops == 1 ? "" : "s");
    for (int i = 0; i < c->num_ops; i++)
        printf("%s%-26s%6d%s", i % 3 == 0 ? "    " : "  ", c->ops[i].op, c->ops[i].nodes,
               i % 3 == 2 || i == c->num_ops - 1 ? "\n" : "");
    if (!c->num_unsupported) {
        printf("  unsupported none: plinth has a kernel for every op\n");
        return;
    }
    printf("  unsupported %d op type%s without a kernel in plinth:\n", c->num_unsupported,
           c->num_unsupported == 1 ? "" : "s");
    for (int i = 0; i < c->num_ops; i++) {
        const pl_cli_op_count *o = &c->ops[i];
        if (o->supported) continue;
        printf("    %s (%d node%s): ", o->op, o->nodes, o->nodes == 1 ? "" : "s");
        for (int u = 0; u < o->num_users && u < MAX_USERS_SHOWN; u++) printf("%s%s", u ? ", " : "", o->users[u]);
        if (o->num_users > MAX_USERS_SHOWN) printf(", ... and %d more", o->num_users - MAX_USERS_SHOWN);
        printf("\n");
    }
}

static void json_report(pl_strbuf *b, const version_report *r) {
    pl_strbuf_puts(b, "{\"version\": ");
    if (r->version >= 0) pl_strbuf_printf(b, "%" PRId64, r->version);
    else pl_strbuf_puts(b, "null");
    pl_strbuf_printf(b, ", \"format\": \"%s\", \"file\": ", format_name(r));
    pl_cli_json_string(b, r->file.path);
    pl_strbuf_printf(b, ", \"bytes\": %" PRId64 ", \"loads\": %s, \"load_error\": ", r->file_bytes,
                     r->model ? "true" : "false");
    if (r->model) pl_strbuf_puts(b, "null");
    else pl_cli_json_string(b, pl_status_message(r->load_error));
    pl_strbuf_puts(b, ", \"meta_graphs\": [");
    for (size_t i = 0; r->file.saved && i < r->file.saved->n_meta_graphs; i++) {
        const Tensorflow__MetaGraphDef__MetaInfoDef *info = r->file.saved->meta_graphs[i]
                                                                ? r->file.saved->meta_graphs[i]->meta_info_def
                                                                : NULL;
        pl_strbuf_puts(b, i ? ", [" : "[");
        for (size_t t = 0; info && t < info->n_tags; t++) {
            if (t) pl_strbuf_puts(b, ", ");
            pl_cli_json_string(b, info->tags[t]);
        }
        pl_strbuf_putc(b, ']');
    }
    pl_strbuf_puts(b, "], \"signatures\": {");
    for (int s = 0; r->model && s < pl_model_num_signatures(r->model); s++) {
        const pl_signature *sig = pl_model_signature(r->model, s);
        if (s) pl_strbuf_puts(b, ", ");
        pl_cli_json_string(b, sig->key);
        pl_strbuf_puts(b, ": ");
        pl_cli_json_signature(b, sig);
    }
    pl_strbuf_printf(b, "}, \"nodes\": %d, \"ops\": {", r->census.num_nodes);
    for (int i = 0; i < r->census.num_ops; i++) {
        if (i) pl_strbuf_puts(b, ", ");
        pl_cli_json_string(b, r->census.ops[i].op);
        pl_strbuf_printf(b, ": %d", r->census.ops[i].nodes);
    }
    pl_strbuf_puts(b, "}, \"unsupported\": {");
    int k = 0;
    for (int i = 0; i < r->census.num_ops; i++) {
        const pl_cli_op_count *o = &r->census.ops[i];
        if (o->supported) continue;
        if (k++) pl_strbuf_puts(b, ", ");
        pl_cli_json_string(b, o->op);
        pl_strbuf_puts(b, ": [");
        for (int u = 0; u < o->num_users; u++) {
            if (u) pl_strbuf_puts(b, ", ");
            pl_cli_json_string(b, o->users[u]);
        }
        pl_strbuf_putc(b, ']');
    }
    pl_strbuf_puts(b, "}}");
}

/* Inspects each version; a version that cannot be read is reported and the
 * others still are. Returns the number of versions that could not be read. */
static int inspect_versions(const pl_cli *cli, const char *base, const char *tags, const pl_cli_version_dir *versions,
                            int n) {
    pl_strbuf json;
    pl_strbuf_init(&json, 0);
    if (cli->json) {
        pl_strbuf_puts(&json, "{\"path\": ");
        pl_cli_json_string(&json, base);
        pl_strbuf_puts(&json, ", \"versions\": [");
    }
    int failed = 0;
    for (int i = 0; i < (n ? n : 1); i++) {
        version_report r = {.tags = tags, .version = n ? versions[i].version : -1, .dir = n ? versions[i].dir : base};
        pl_status st = examine(&r);
        if (st) {
            failed++;
            if (r.version >= 0) fprintf(stderr, "plinth-cli: version %" PRId64 ": %s\n", r.version, pl_status_message(st));
            else fprintf(stderr, "plinth-cli: %s\n", pl_status_message(st));
            pl_status_free(st);
        } else if (cli->json) {
            if (json.len && json.data[json.len - 1] != '[') pl_strbuf_puts(&json, ", ");
            json_report(&json, &r);
        } else {
            print_text(&r);
        }
        report_deinit(&r);
    }
    if (cli->json) {
        pl_strbuf_puts(&json, "]}");
        if (!pl_strbuf_status(&json)) printf("%s\n", json.data);
    }
    pl_strbuf_deinit(&json);
    return failed;
}

int pl_cli_inspect(pl_cli *cli, int argc, char **argv) {
    const char *path = NULL, *tags = "serve";
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--tags") && i + 1 < argc) tags = argv[++i];
        else if (argv[i][0] != '-' && !path) path = argv[i];
        else return pl_cli_usage(pl_cli_inspect_usage);
    }
    if (!path) return pl_cli_usage(pl_cli_inspect_usage);
    /* The loader's progress lines are for server logs; inspect reports the outcome itself. */
    if (!getenv("PLINTH_LOG_LEVEL")) pl_log_set_level(PL_LOG_WARNING);
    if (!pl_path_exists(path)) return pl_cli_fail(cli, pl_error(PL_NOT_FOUND, "%s does not exist", path));
    pl_cli_version_dir *versions = NULL;
    int n = 0;
    if (pl_path_is_dir(path)) {
        pl_status st = pl_cli_list_versions(path, &versions, &n);
        if (st) return pl_cli_fail(cli, st);
    }
    if (!cli->json) {
        if (n) {
            printf("%s: %d version%s (", path, n, n == 1 ? "" : "s");
            for (int i = 0; i < n; i++) printf("%s%" PRId64, i ? ", " : "", versions[i].version);
            printf("); plinth serves the latest, %" PRId64 ", by default\n", versions[n - 1].version);
        } else {
            printf("%s: a single model (no numbered version directories)\n", path);
        }
    }
    int failed = inspect_versions(cli, path, tags, versions, n);
    pl_cli_versions_free(versions, n);
    return failed ? 1 : 0;
}
