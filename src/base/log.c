/* Logging to stderr with a UTC timestamp and a level letter, one write per line
 * so that lines from different threads never interleave. */
#include "base/log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static atomic_int current_level = -1;

static pl_log_level level_from_env(void) {
    const char *s = getenv("PLINTH_LOG_LEVEL");
    if (!s) return PL_LOG_INFO;
    if (!strcmp(s, "debug")) return PL_LOG_DEBUG;
    if (!strcmp(s, "warning")) return PL_LOG_WARNING;
    if (!strcmp(s, "error")) return PL_LOG_ERROR;
    return PL_LOG_INFO;
}

void pl_log_set_level(pl_log_level level) { atomic_store(&current_level, (int)level); }

pl_log_level pl_log_get_level(void) {
    int level = atomic_load(&current_level);
    if (level < 0) {
        level = (int)level_from_env();
        atomic_store(&current_level, level);
    }
    return (pl_log_level)level;
}

void pl_log(pl_log_level level, const char *fmt, ...) {
    if (level < pl_log_get_level()) return;
    char line[2048];
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    gmtime_r(&ts.tv_sec, &tm);
    int n = snprintf(line, sizeof line, "%c%04d-%02d-%02d %02d:%02d:%02d.%06ld plinth] ", "DIWE"[level],
                     tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                     ts.tv_nsec / 1000);
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
    va_end(ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2) len = sizeof line - 2;
    line[len++] = '\n';
    ssize_t ignored = write(STDERR_FILENO, line, len);
    (void)ignored;
}
