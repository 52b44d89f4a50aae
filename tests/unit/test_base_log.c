/* Logging: levels filter, lines carry a timestamp and a level letter, and
 * concurrent writers never interleave within a line. */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "check.h"

/* Runs fn with stderr redirected into a temporary file; returns its contents. */
static char *capture(void (*fn)(void)) {
    static char buf[1 << 20];
    FILE *tmp = tmpfile();
    int saved = dup(STDERR_FILENO);
    dup2(fileno(tmp), STDERR_FILENO);
    fn();
    dup2(saved, STDERR_FILENO);
    close(saved);
    rewind(tmp);
    size_t n = fread(buf, 1, sizeof buf - 1, tmp);
    buf[n] = '\0';
    fclose(tmp);
    return buf;
}

static void log_each_level(void) {
    pl_log_debug("debug %d", 1);
    pl_log_info("info %d", 2);
    pl_log_warning("warning %d", 3);
    pl_log_error("error %d", 4);
}

static void test_level_filters(void) {
    pl_log_set_level(PL_LOG_WARNING);
    char *out = capture(log_each_level);
    CHECK(!strstr(out, "debug 1"));
    CHECK(!strstr(out, "info 2"));
    CHECK(strstr(out, "warning 3") != NULL);
    CHECK(strstr(out, "error 4") != NULL);
    pl_log_set_level(PL_LOG_DEBUG);
    out = capture(log_each_level);
    CHECK(strstr(out, "debug 1") != NULL && strstr(out, "info 2") != NULL);
    CHECK(pl_log_get_level() == PL_LOG_DEBUG);
}

static void log_one(void) { pl_log_info("hello %s", "world"); }

static void test_line_format(void) {
    pl_log_set_level(PL_LOG_INFO);
    char *out = capture(log_one);
    /* I2026-11-25 14:44:43.123456 plinth] hello world */
    int y, mo, d, h, mi, s, us;
    char tail[64];
    CHECK(out[0] == 'I');
    CHECK_EQ_INT(sscanf(out + 1, "%4d-%2d-%2d %2d:%2d:%2d.%6d plinth] %63[^\n]", &y, &mo, &d, &h, &mi, &s, &us, tail), 8);
    CHECK_STR(tail, "hello world");
    CHECK(y >= 2024 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31);
    CHECK(out[strlen(out) - 1] == '\n');
}

static void *writer(void *arg) {
    for (int i = 0; i < 200; i++) pl_log_info("thread %ld line %d %s", (long)arg, i, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
    return NULL;
}

static void log_from_threads(void) {
    pthread_t t[4];
    for (long i = 0; i < 4; i++) pthread_create(&t[i], NULL, writer, (void *)i);
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
}

static void test_lines_never_interleave(void) {
    char *out = capture(log_from_threads);
    int lines = 0, good = 0;
    for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"), lines++) {
        long thread;
        int n;
        char rest[64];
        if (sscanf(strstr(line, "plinth] ") ? strstr(line, "plinth] ") + 8 : "", "thread %ld line %d %63s", &thread, &n, rest) == 3 &&
            !strcmp(rest, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"))
            good++;
    }
    CHECK_EQ_INT(lines, 800);
    CHECK_EQ_INT(good, 800);
}

static void log_huge(void) {
    char big[5000];
    memset(big, 'y', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    pl_log_error("%s", big);
}

static void test_long_messages_are_cut_to_one_line(void) {
    char *out = capture(log_huge);
    CHECK(strlen(out) < 2100);
    CHECK(out[strlen(out) - 1] == '\n');
    CHECK(strchr(out, '\n') == out + strlen(out) - 1);
}

int main(void) {
    RUN_TEST(test_level_filters);
    RUN_TEST(test_line_format);
    RUN_TEST(test_lines_never_interleave);
    RUN_TEST(test_long_messages_are_cut_to_one_line);
    return check_summary();
}
