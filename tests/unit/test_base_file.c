/* Files: reads with a cap (missing, empty, at and over the cap, a directory,
 * a pipe-like /proc file), mappings, listings and path joins. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/file.h"
#include "check.h"

static char dir[64];

static char *path_in(const char *name) {
    char *p = pl_path_join(dir, name);
    return p;
}

static void write_file(const char *name, const void *data, size_t n) {
    char *p = path_in(name);
    FILE *f = fopen(p, "wb");
    CHECK(f != NULL);
    if (f) {
        if (n) fwrite(data, 1, n, f);
        fclose(f);
    }
    free(p);
}

static void test_read(void) {
    write_file("ten", "0123456789", 10);
    write_file("empty", "", 0);
    char *p = path_in("ten"), *data = NULL;
    size_t n = 0;
    CHECK_OK(pl_file_read(p, 10, &data, &n));  /* exactly at the cap */
    CHECK_EQ_INT(n, 10);
    CHECK_STR(data, "0123456789");
    free(data);
    CHECK_ERR(pl_file_read(p, 9, &data, &n), PL_RESOURCE_EXHAUSTED);
    CHECK_ERR(pl_file_read(p, 0, &data, &n), PL_RESOURCE_EXHAUSTED);
    free(p);

    p = path_in("empty");
    data = NULL;
    CHECK_OK(pl_file_read(p, 0, &data, &n));
    CHECK_EQ_INT(n, 0);
    CHECK(data && data[0] == 0);
    free(data);
    free(p);

    p = path_in("missing");
    pl_status st = pl_file_read(p, 100, &data, &n);
    CHECK(pl_status_code(st) == PL_NOT_FOUND);
    CHECK(strstr(pl_status_message(st), "missing") != NULL);
    pl_status_free(st);
    free(p);

    CHECK_ERR(pl_file_read(dir, 100, &data, &n), PL_FAILED_PRECONDITION);
}

static void test_read_unsized_file(void) {
    /* /proc files report size 0 but have content: read until EOF. */
    char *data = NULL;
    size_t n = 0;
    CHECK_OK(pl_file_read("/proc/self/status", 1 << 20, &data, &n));
    CHECK(n > 0 && strstr(data, "Name:") != NULL);
    free(data);
    CHECK_ERR(pl_file_read("/proc/self/status", 16, &data, &n), PL_RESOURCE_EXHAUSTED);
}

static void test_large_read(void) {
    size_t big = 3 << 20;
    char *buf = malloc(big);
    for (size_t i = 0; i < big; i++) buf[i] = (char)(i * 131);
    write_file("big", buf, big);
    char *p = path_in("big"), *data = NULL;
    size_t n = 0;
    CHECK_OK(pl_file_read(p, big, &data, &n));
    CHECK_EQ_INT(n, big);
    CHECK(data && memcmp(data, buf, big) == 0);
    free(data);

    pl_mapped_file mf;
    CHECK_OK(pl_file_map(p, &mf));
    CHECK_EQ_INT(mf.nbytes, big);
    CHECK(memcmp(mf.data, buf, big) == 0);
    pl_file_unmap(&mf);
    CHECK(mf.data == NULL);
    pl_file_unmap(&mf);  /* twice is harmless */
    free(p);
    free(buf);
}

static void test_map_edges(void) {
    char *p = path_in("empty");
    pl_mapped_file mf;
    CHECK_OK(pl_file_map(p, &mf));
    CHECK_EQ_INT(mf.nbytes, 0);
    CHECK(mf.data != NULL);
    pl_file_unmap(&mf);
    free(p);
    p = path_in("missing");
    CHECK_ERR(pl_file_map(p, &mf), PL_NOT_FOUND);
    free(p);
    CHECK_ERR(pl_file_map(dir, &mf), PL_FAILED_PRECONDITION);
}

static void test_list(void) {
    char *sub = path_in("sub");
    CHECK(mkdir(sub, 0700) == 0);
    char **names = NULL;
    size_t count = 0;
    CHECK_OK(pl_dir_list(sub, &names, &count));
    CHECK_EQ_INT(count, 0);
    pl_dir_list_free(names, count);
    free(sub);

    CHECK_OK(pl_dir_list(dir, &names, &count));
    /* big, empty, sub, ten: sorted, no "." or "..". */
    CHECK_EQ_INT(count, 4);
    if (count == 4) {
        CHECK_STR(names[0], "big");
        CHECK_STR(names[1], "empty");
        CHECK_STR(names[2], "sub");
        CHECK_STR(names[3], "ten");
    }
    pl_dir_list_free(names, count);
    char *p = path_in("missing");
    CHECK_ERR(pl_dir_list(p, &names, &count), PL_NOT_FOUND);
    free(p);
    p = path_in("ten");
    CHECK_ERR(pl_dir_list(p, &names, &count), PL_NOT_FOUND);  /* not a directory */
    free(p);
}

static void test_exists(void) {
    char *p = path_in("ten");
    CHECK(pl_path_exists(p));
    CHECK(!pl_path_is_dir(p));
    free(p);
    CHECK(pl_path_is_dir(dir));
    p = path_in("missing");
    CHECK(!pl_path_exists(p));
    CHECK(!pl_path_is_dir(p));
    free(p);
}

static void check_join(const char *a, const char *b, const char *want) {
    char *j = pl_path_join(a, b);
    CHECK_STR(j, want);
    free(j);
}

static void test_join(void) {
    check_join("/models", "half", "/models/half");
    check_join("/models/", "half", "/models/half");
    check_join("/models//", "/half", "/models/half");
    check_join("", "half", "half");
    check_join("/", "half", "/half");
    check_join("a", "", "a/");
    check_join("a/b", "c/d", "a/b/c/d");
}

static void cleanup(void) {
    const char *names[] = {"ten", "empty", "big"};
    for (size_t i = 0; i < 3; i++) {
        char *p = path_in(names[i]);
        unlink(p);
        free(p);
    }
    char *p = path_in("sub");
    rmdir(p);
    free(p);
    rmdir(dir);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/plinth-file-XXXXXX");
    if (!mkdtemp(dir)) return 1;
    RUN_TEST(test_read);
    RUN_TEST(test_read_unsized_file);
    RUN_TEST(test_large_read);
    RUN_TEST(test_map_edges);
    RUN_TEST(test_list);
    RUN_TEST(test_exists);
    RUN_TEST(test_join);
    cleanup();
    return check_summary();
}
