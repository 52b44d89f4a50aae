/* String builder: growth, formatted appends, the sticky error and detach. */
#include <stdint.h>

#include "base/strbuf.h"
#include "check.h"

static void test_append_and_grow(void) {
    pl_strbuf b;
    pl_strbuf_init(&b, 0);
    CHECK(pl_strbuf_status(&b) == NULL);
    char expect[20001];
    for (int i = 0; i < 20000; i++) {
        char c = (char)('a' + i % 26);
        pl_strbuf_putc(&b, c);
        expect[i] = c;
    }
    expect[20000] = 0;
    CHECK_EQ_INT(b.len, 20000);
    CHECK_STR(b.data, expect);
    pl_strbuf_clear(&b);
    CHECK_EQ_INT(b.len, 0);
    CHECK_STR(b.data, "");
    pl_strbuf_puts(&b, "x=");
    pl_strbuf_printf(&b, "%d,%s", 42, "y");
    CHECK_STR(b.data, "x=42,y");
    /* A formatted append longer than the stack buffer. */
    pl_strbuf_printf(&b, "%0500d", 7);
    CHECK_EQ_INT(b.len, 506);
    CHECK(b.data[505] == '7' && b.data[6] == '0');
    /* Embedded NUL bytes are data. */
    pl_strbuf_clear(&b);
    pl_strbuf_append(&b, "a\0b", 3);
    CHECK_EQ_INT(b.len, 3);
    CHECK(memcmp(b.data, "a\0b", 4) == 0);
    pl_strbuf_deinit(&b);
}

static void test_reserve_commit(void) {
    pl_strbuf b;
    pl_strbuf_init(&b, 0);
    char *p = pl_strbuf_reserve(&b, 10);
    CHECK(p != NULL);
    memcpy(p, "hello", 5);
    pl_strbuf_commit(&b, 5);
    CHECK_STR(b.data, "hello");
    pl_strbuf_deinit(&b);
}

static void test_sticky_cap(void) {
    pl_strbuf b;
    pl_strbuf_init(&b, 8);
    pl_strbuf_puts(&b, "12345678");  /* exactly the cap */
    CHECK(pl_strbuf_status(&b) == NULL);
    pl_strbuf_putc(&b, '9');         /* one past: fails */
    CHECK(b.failed);
    pl_strbuf_puts(&b, "");          /* everything after is ignored */
    pl_strbuf_printf(&b, "%d", 1);
    CHECK(pl_strbuf_reserve(&b, 0) == NULL);
    pl_status st = pl_strbuf_status(&b);
    CHECK(pl_status_code(st) == PL_RESOURCE_EXHAUSTED);
    CHECK(strstr(pl_status_message(st), "8 bytes") != NULL);
    pl_status_free(st);
    CHECK(pl_strbuf_detach(&b, NULL) == NULL);
    /* A cleared builder works again. */
    pl_strbuf_clear(&b);
    pl_strbuf_puts(&b, "ok");
    CHECK(pl_strbuf_status(&b) == NULL);
    pl_strbuf_deinit(&b);
}

static void test_huge_request_fails_cleanly(void) {
    pl_strbuf b;
    pl_strbuf_init(&b, 0);
    CHECK(pl_strbuf_reserve(&b, SIZE_MAX - 1) == NULL);
    CHECK(b.failed);
    CHECK_ERR(pl_strbuf_status(&b), PL_RESOURCE_EXHAUSTED);
    pl_strbuf_deinit(&b);
}

static void test_detach(void) {
    pl_strbuf b;
    pl_strbuf_init(&b, 100);
    size_t len = 99;
    char *empty = pl_strbuf_detach(&b, &len);
    CHECK(empty && empty[0] == 0 && len == 0);
    free(empty);
    pl_strbuf_puts(&b, "abc");
    char *s = pl_strbuf_detach(&b, &len);
    CHECK_STR(s, "abc");
    CHECK_EQ_INT(len, 3);
    CHECK(b.data == NULL && b.len == 0 && b.max_nbytes == 100);
    free(s);
    pl_strbuf_deinit(&b);
}

int main(void) {
    RUN_TEST(test_append_and_grow);
    RUN_TEST(test_reserve_commit);
    RUN_TEST(test_sticky_cap);
    RUN_TEST(test_huge_request_fails_cleanly);
    RUN_TEST(test_detach);
    return check_summary();
}
