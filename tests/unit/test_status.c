/* Status creation, codes, names, prefixes and the REST mapping. */
#include "check.h"
#include "base/status.h"

static void test_ok_is_null(void) {
    CHECK(pl_status_code(NULL) == PL_OK);
    CHECK_STR(pl_status_message(NULL), "");
    pl_status_free(NULL);
}

static void test_error_keeps_code_and_message(void) {
    pl_status st = pl_error(PL_NOT_FOUND, "Servable not found for request: Latest(%s)", "m");
    CHECK(pl_status_code(st) == PL_NOT_FOUND);
    CHECK_STR(pl_status_message(st), "Servable not found for request: Latest(m)");
    st = pl_status_prefix(st, "loading '%s': ", "x");
    CHECK_STR(pl_status_message(st), "loading 'x': Servable not found for request: Latest(m)");
    pl_status_free(st);
}

static void test_ok_code_is_not_an_error(void) {
    pl_status st = pl_error(PL_OK, "oops");
    CHECK(pl_status_code(st) == PL_UNKNOWN);
    pl_status_free(st);
}

static void test_names_and_http(void) {
    CHECK_STR(pl_code_name(PL_INVALID_ARGUMENT), "INVALID_ARGUMENT");
    CHECK_STR(pl_code_name(PL_UNAUTHENTICATED), "UNAUTHENTICATED");
    CHECK_EQ_INT(pl_code_http_status(PL_NOT_FOUND), 404);
    CHECK_EQ_INT(pl_code_http_status(PL_UNIMPLEMENTED), 501);
    CHECK_EQ_INT(pl_code_http_status(PL_DEADLINE_EXCEEDED), 504);
    CHECK_EQ_INT(pl_code_http_status(PL_UNAVAILABLE), 503);
    CHECK_EQ_INT(pl_code_http_status(PL_FAILED_PRECONDITION), 400);
}

int main(void) {
    RUN_TEST(test_ok_is_null);
    RUN_TEST(test_error_keeps_code_and_message);
    RUN_TEST(test_ok_code_is_not_an_error);
    RUN_TEST(test_names_and_http);
    return check_summary();
}
