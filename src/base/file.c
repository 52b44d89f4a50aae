/* Files and paths on POSIX: read, mmap, readdir, stat. */
#include "base/file.h"
#include "base/sort.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static pl_status errno_status(const char *what, const char *path, int err) {
    pl_code code = err == ENOENT || err == ENOTDIR ? PL_NOT_FOUND
                   : err == EACCES || err == EPERM ? PL_PERMISSION_DENIED
                   : err == EISDIR                 ? PL_FAILED_PRECONDITION
                   : err == ENOMEM                 ? PL_RESOURCE_EXHAUSTED
                                                   : PL_UNKNOWN;
    return pl_error(code, "%s %s: %s", what, path, strerror(err));
}

/* Opens a regular file (not a directory) for reading. */
static pl_status open_file(const char *path, int *fd_out, struct stat *st) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno_status("cannot open", path, errno);
    if (fstat(fd, st) < 0) {
        int err = errno;
        close(fd);
        return errno_status("cannot stat", path, err);
    }
    if (S_ISDIR(st->st_mode)) {
        close(fd);
        return errno_status("cannot read", path, EISDIR);
    }
    *fd_out = fd;
    return NULL;
}

pl_status pl_file_read(const char *path, size_t max_nbytes, char **data, size_t *nbytes) {
    int fd = -1;
    struct stat st;
    PL_TRY(open_file(path, &fd, &st));
    pl_status err = NULL;
    char *buf = NULL;
    if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max_nbytes) {
        err = pl_error(PL_RESOURCE_EXHAUSTED, "%s is %jd bytes, more than the limit of %zu", path,
                       (intmax_t)st.st_size, max_nbytes);
        goto done;
    }
    /* Regular files announce their size; pipes and /proc files do not, so
     * those are read in growing steps. Either way a file that grows past the
     * cap while it is read is refused. */
    size_t cap = S_ISREG(st.st_mode) ? (size_t)st.st_size : 4096, len = 0;
    if (cap > max_nbytes) cap = max_nbytes;
    if (!(buf = malloc(cap + 1))) {
        err = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory reading %s", path);
        goto done;
    }
    for (;;) {
        if (len == cap) {
            /* Full: one more byte tells the end of the file from a file
             * larger than the buffer. */
            char extra;
            ssize_t n = read(fd, &extra, 1);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0) {
                err = errno_status("cannot read", path, errno);
                goto done;
            }
            if (n == 0) break;
            if (cap >= max_nbytes) {
                err = pl_error(PL_RESOURCE_EXHAUSTED, "%s is more than the limit of %zu bytes", path, max_nbytes);
                goto done;
            }
            size_t ncap = cap < 4096 ? 4096 : cap > max_nbytes / 2 ? max_nbytes : cap * 2;
            if (ncap > max_nbytes) ncap = max_nbytes;
            char *nb = realloc(buf, ncap + 1);
            if (!nb) {
                err = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory reading %s", path);
                goto done;
            }
            buf = nb;
            cap = ncap;
            buf[len++] = extra;
            continue;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            err = errno_status("cannot read", path, errno);
            goto done;
        }
        if (n == 0) break;
        len += (size_t)n;
    }
    buf[len] = 0;
    *data = buf;
    *nbytes = len;
    buf = NULL;
done:
    free(buf);
    close(fd);
    return err;
}

pl_status pl_file_map(const char *path, pl_mapped_file *out) {
    int fd = -1;
    struct stat st;
    PL_TRY(open_file(path, &fd, &st));
    pl_status err = NULL;
    if (!S_ISREG(st.st_mode)) {
        err = pl_error(PL_FAILED_PRECONDITION, "cannot map %s: not a regular file", path);
    } else if (st.st_size == 0) {
        /* mmap refuses zero lengths; an empty file is still a valid file. */
        static const char empty[1];
        *out = (pl_mapped_file){empty, 0, NULL, 0};
    } else if ((uintmax_t)st.st_size > SIZE_MAX) {
        err = pl_error(PL_RESOURCE_EXHAUSTED, "cannot map %s: too large", path);
    } else {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            err = errno_status("cannot map", path, errno);
        } else {
            *out = (pl_mapped_file){p, (size_t)st.st_size, p, (size_t)st.st_size};
        }
    }
    close(fd);
    return err;
}

void pl_file_unmap(pl_mapped_file *f) {
    if (f->map_) munmap(f->map_, f->map_nbytes_);
    memset(f, 0, sizeof *f);
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

pl_status pl_dir_list(const char *path, char ***names_out, size_t *count_out) {
    DIR *d = opendir(path);
    if (!d) return errno_status("cannot list", path, errno);
    char **names = NULL;
    size_t count = 0, cap = 0;
    pl_status err = NULL;
    struct dirent *e;
    errno = 0;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (count == cap) {
            size_t ncap = cap ? cap * 2 : 16;
            char **nn = realloc(names, ncap * sizeof *nn);
            if (!nn) {
                err = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory listing %s", path);
                goto done;
            }
            names = nn;
            cap = ncap;
        }
        if (!(names[count] = strdup(e->d_name))) {
            err = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory listing %s", path);
            goto done;
        }
        count++;
        errno = 0;
    }
    if (errno) {
        err = errno_status("cannot list", path, errno);
        goto done;
    }
    if (count) pl_qsort(names, count, sizeof *names, compare_names);
    *names_out = names;
    *count_out = count;
    names = NULL;
    count = 0;
done:
    closedir(d);
    pl_dir_list_free(names, count);
    return err;
}

void pl_dir_list_free(char **names, size_t count) {
    for (size_t i = 0; i < count; i++) free(names[i]);
    free(names);
}

char *pl_path_join(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    if (!la) return strdup(b);
    while (la > 1 && a[la - 1] == '/') la--;
    while (lb && b[0] == '/') b++, lb--;
    bool slash = !(la == 1 && a[0] == '/');
    char *p = malloc(la + slash + lb + 1);
    if (!p) return NULL;
    memcpy(p, a, la);
    if (slash) p[la] = '/';
    memcpy(p + la + slash, b, lb + 1);
    return p;
}

bool pl_path_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

bool pl_path_is_dir(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}
