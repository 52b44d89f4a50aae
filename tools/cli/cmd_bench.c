/* plinth-cli bench MODEL --input NAME=VALUE...: a load generator. N clients,
 * each on its own connection, send the same Predict request (encoded once)
 * back to back for a number of requests or a duration; then throughput and
 * the latency distribution. On a terminal a progress line updates meanwhile. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/inputs.h"
#include "cli/latency.h"
#include "cli/show.h"

const char pl_cli_bench_usage[] =
    "usage: plinth-cli [options] bench MODEL --input NAME=VALUE [--input ...]\n"
    "                  [--concurrency N] [--requests N | --duration SECONDS] [--warmup N]\n"
    "  sends the same Predict request from N clients (default 1), each on its own connection,\n"
    "  for N requests in total (default 100) or for a duration; prints throughput and latency\n"
    "  percentiles. Inputs are given as for predict. --warmup requests (default 1) are not counted.\n";

/* More clients than this is a typo, not a benchmark. */
#define MAX_CONCURRENCY 1024
/* How often the progress line is redrawn. */
#define PROGRESS_INTERVAL_MS 250

typedef struct bench_args {
    const char *model;
    pl_cli_inputs inputs;
    int concurrency;
    long long requests;      /* 0 with a duration */
    double duration;         /* seconds; 0 with a request count */
    int warmup;
} bench_args;

typedef struct bench_run {
    const pl_cli *cli;
    const bench_args *args;
    const pl_client_prepared *request;
    double end_time;                     /* for --duration */
    atomic_llong tickets;                /* for --requests: requests handed out */
    atomic_llong done, failed;
    pthread_mutex_t mu;                  /* guards first_error */
    pl_status first_error;
} bench_run;

typedef struct worker {
    pthread_t thread;
    bench_run *run;
    double *ms;                          /* latencies of successful requests */
    size_t n, cap;
    bool oom;
} worker;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static bool take_ticket(bench_run *r) {
    if (r->args->duration > 0) return now_seconds() < r->end_time;
    return atomic_fetch_add(&r->tickets, 1) < r->args->requests;
}

static void record(worker *w, double ms) {
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 1024;
        double *grown = realloc(w->ms, cap * sizeof *grown);
        if (!grown) {
            w->oom = true;
            return;
        }
        w->ms = grown;
        w->cap = cap;
    }
    w->ms[w->n++] = ms;
}

static void *worker_main(void *arg) {
    worker *w = arg;
    bench_run *r = w->run;
    pl_client *c = NULL;
    pl_status st = pl_client_open(r->cli, &c);
    while (!st && take_ticket(r)) {
        double t0 = now_seconds();
        pl_status e = pl_client_send_prepared(c, r->request);
        double ms = (now_seconds() - t0) * 1e3;
        if (!e) {
            record(w, ms);
            atomic_fetch_add(&r->done, 1);
            continue;
        }
        atomic_fetch_add(&r->failed, 1);
        pthread_mutex_lock(&r->mu);
        if (!r->first_error) r->first_error = e, e = NULL;
        pthread_mutex_unlock(&r->mu);
        pl_status_free(e);
    }
    if (st) {
        pthread_mutex_lock(&r->mu);
        if (!r->first_error) r->first_error = st, st = NULL;
        pthread_mutex_unlock(&r->mu);
        pl_status_free(st);
    }
    pl_client_close(c);
    return NULL;
}

static int parse(int argc, char **argv, bench_args *a) {
    memset(a, 0, sizeof *a);
    a->concurrency = 1;
    a->warmup = 1;
    for (int i = 0; i < argc; i++) {
        const char *next = i + 1 < argc ? argv[i + 1] : NULL;
        char *end = NULL;
        if (!strcmp(argv[i], "--input") && next) {
            if (pl_cli_inputs_add(&a->inputs, argv[++i])) return -1;
        } else if ((!strcmp(argv[i], "--concurrency") || !strcmp(argv[i], "-c")) && next) {
            a->concurrency = (int)strtol(argv[++i], &end, 10);
            if (*end || a->concurrency < 1 || a->concurrency > MAX_CONCURRENCY) return -1;
        } else if ((!strcmp(argv[i], "--requests") || !strcmp(argv[i], "-n")) && next) {
            a->requests = strtoll(argv[++i], &end, 10);
            if (*end || a->requests < 1) return -1;
        } else if ((!strcmp(argv[i], "--duration") || !strcmp(argv[i], "-d")) && next) {
            a->duration = strtod(argv[++i], &end);
            if (*end || !(a->duration > 0)) return -1;
        } else if (!strcmp(argv[i], "--warmup") && next) {
            a->warmup = (int)strtol(argv[++i], &end, 10);
            if (*end || a->warmup < 0) return -1;
        } else if (argv[i][0] != '-' && !a->model) {
            a->model = argv[i];
        } else {
            return -1;
        }
    }
    if (a->requests && a->duration > 0) return -1;
    if (!a->requests && !(a->duration > 0)) a->requests = 100;
    return a->model ? 0 : -1;
}

/* Redraws one line in place until every worker is done. */
static void show_progress(bench_run *r, double start, atomic_bool *finished) {
    bool tty = isatty(STDERR_FILENO);
    while (!atomic_load(finished)) {
        struct timespec pause = {0, PROGRESS_INTERVAL_MS * 1000000L};
        nanosleep(&pause, NULL);
        if (!tty) continue;
        double t = now_seconds() - start;
        long long done = atomic_load(&r->done), failed = atomic_load(&r->failed);
        if (r->args->duration > 0)
            fprintf(stderr, "\r  %6.1f / %.1f s  %8lld requests  %8.1f req/s  %lld errors   ", t, r->args->duration,
                    done, t > 0 ? done / t : 0.0, failed);
        else
            fprintf(stderr, "\r  %8lld / %lld requests  %8.1f req/s  %lld errors   ", done + failed, r->args->requests,
                    t > 0 ? done / t : 0.0, failed);
        fflush(stderr);
    }
    if (tty) fprintf(stderr, "\r%*s\r", 72, "");
}

typedef struct progress_arg {
    bench_run *run;
    double start;
    atomic_bool *finished;
} progress_arg;

static void *progress_main(void *arg) {
    progress_arg *p = arg;
    show_progress(p->run, p->start, p->finished);
    return NULL;
}

static void report(const pl_cli *cli, const pl_client *c, const bench_run *r, double seconds, double *ms, size_t n) {
    pl_latency_summary s;
    pl_latency_summarize(ms, n, &s);
    pl_latency_histogram h;
    pl_latency_histogram_make(ms, n, &h);
    long long failed = atomic_load(&r->failed);
    double qps = seconds > 0 ? (double)n / seconds : 0;
    if (cli->json) {
        pl_strbuf b;
        pl_strbuf_init(&b, 0);
        pl_strbuf_puts(&b, "{\"model\": ");
        pl_cli_json_string(&b, r->args->model);
        pl_strbuf_printf(&b, ", \"transport\": \"%s\", \"concurrency\": %d, \"requests\": %zu, \"errors\": %lld, "
                             "\"seconds\": %.6f, \"qps\": %.3f, \"latency_ms\": {\"min\": %.4f, \"mean\": %.4f, "
                             "\"p50\": %.4f, \"p90\": %.4f, \"p99\": %.4f, \"max\": %.4f}, \"histogram\": ",
                         pl_client_transport_name(c), r->args->concurrency, n, failed, seconds, qps, s.min_ms,
                         s.mean_ms, s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms);
        pl_latency_histogram_json(&b, &h);
        pl_strbuf_putc(&b, '}');
        if (!pl_strbuf_status(&b)) printf("%s\n", b.data);
        pl_strbuf_deinit(&b);
        return;
    }
    printf("bench %s over %s at %s: %d client%s, %zu requests in %.2f s\n", r->args->model,
           pl_client_transport_name(c), pl_cli_endpoint(cli), r->args->concurrency,
           r->args->concurrency == 1 ? "" : "s", n, seconds);
    printf("  throughput  %.1f requests/s\n", qps);
    printf("  latency     min %.2f  mean %.2f  p50 %.2f  p90 %.2f  p99 %.2f  max %.2f ms\n", s.min_ms, s.mean_ms,
           s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms);
    printf("  errors      %lld\n", failed);
    if (n) {
        printf("  histogram\n");
        pl_latency_histogram_print(stdout, &h, 40);
    }
}

/* Runs the workers and reports; returns the exit code. */
static int run_load(const pl_cli *cli, pl_client *c, const bench_args *a, const pl_client_prepared *req) {
    bench_run r = {.cli = cli, .args = a, .request = req};
    pthread_mutex_init(&r.mu, NULL);
    worker *w = calloc((size_t)a->concurrency, sizeof *w);
    if (!w) return pl_cli_fail(cli, pl_error(PL_RESOURCE_EXHAUSTED, "out of memory"));
    atomic_bool finished = false;
    double start = now_seconds();
    r.end_time = start + a->duration;
    int started = 0;
    for (; started < a->concurrency; started++) {
        w[started].run = &r;
        if (pthread_create(&w[started].thread, NULL, worker_main, &w[started])) break;
    }
    pthread_t progress;
    progress_arg pa = {&r, start, &finished};
    bool has_progress = pthread_create(&progress, NULL, progress_main, &pa) == 0;
    for (int i = 0; i < started; i++) pthread_join(w[i].thread, NULL);
    double seconds = now_seconds() - start;
    atomic_store(&finished, true);
    if (has_progress) pthread_join(progress, NULL);

    size_t n = 0;
    for (int i = 0; i < started; i++) n += w[i].n;
    double *all = malloc((n + 1) * sizeof *all);
    size_t k = 0;
    for (int i = 0; all && i < started; i++) {
        if (w[i].n == 0) continue; /* a worker that sent nothing has no buffer */
        memcpy(all + k, w[i].ms, w[i].n * sizeof *all);
        k += w[i].n;
    }
    int code = 0;
    if (!all) {
        code = pl_cli_fail(cli, pl_error(PL_RESOURCE_EXHAUSTED, "out of memory"));
    } else if (n == 0 && r.first_error) {
        code = pl_cli_fail_model(cli, a->model, r.first_error);
        r.first_error = NULL;
    } else {
        report(cli, c, &r, seconds, all, n);
        if (r.first_error) {
            fprintf(stderr, "plinth-cli: %lld request%s failed; the first with: %s\n", (long long)atomic_load(&r.failed),
                    atomic_load(&r.failed) == 1 ? "" : "s", pl_status_message(r.first_error));
            code = 1;
        }
    }
    pl_status_free(r.first_error);
    for (int i = 0; i < started; i++) free(w[i].ms);
    free(w);
    free(all);
    pthread_mutex_destroy(&r.mu);
    return code;
}

int pl_cli_bench(pl_cli *cli, int argc, char **argv) {
    bench_args a;
    if (parse(argc, argv, &a)) return pl_cli_usage(pl_cli_bench_usage);
    pl_client *c = NULL;
    pl_client_signatures sigs = {0};
    const pl_signature *sig = NULL;
    pl_client_prepared req = {0};
    bool from_server = true;
    pl_status st = pl_client_open(cli, &c);
    if (!st) st = pl_client_metadata(c, a.model, &sigs);
    if (!st) {
        from_server = false;
        st = pl_client_find_signature(&sigs, cli->signature, &sig);
    }
    if (!st) st = pl_cli_inputs_read(&a.inputs, sig);
    if (!st)
        st = pl_client_prepare_predict(c, a.model, sig, a.inputs.num, (const char *const *)a.inputs.names,
                                       a.inputs.tensors, &req);
    /* Warm-up requests pay one-time costs (first-shape kernel setup) and
     * show a request error before any load is generated. */
    for (int i = 0; !st && i < a.warmup; i++) {
        from_server = true;
        st = pl_client_send_prepared(c, &req);
    }
    int code = st ? pl_cli_fail_model(cli, from_server ? a.model : NULL, st) : run_load(cli, c, &a, &req);
    pl_client_prepared_deinit(&req);
    pl_cli_inputs_deinit(&a.inputs);
    pl_client_signatures_deinit(&sigs);
    pl_client_close(c);
    return code;
}
