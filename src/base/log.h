/* Logging: leveled, timestamped lines on stderr, safe from any thread.
 * The level comes from pl_log_set_level() or the PLINTH_LOG_LEVEL environment
 * variable (debug, info, warning, error). */
#ifndef PL_BASE_LOG_H
#define PL_BASE_LOG_H

typedef enum pl_log_level { PL_LOG_DEBUG, PL_LOG_INFO, PL_LOG_WARNING, PL_LOG_ERROR } pl_log_level;

void pl_log_set_level(pl_log_level level);
pl_log_level pl_log_get_level(void);
void pl_log(pl_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pl_log_debug(...) pl_log(PL_LOG_DEBUG, __VA_ARGS__)
#define pl_log_info(...) pl_log(PL_LOG_INFO, __VA_ARGS__)
#define pl_log_warning(...) pl_log(PL_LOG_WARNING, __VA_ARGS__)
#define pl_log_error(...) pl_log(PL_LOG_ERROR, __VA_ARGS__)

#endif
