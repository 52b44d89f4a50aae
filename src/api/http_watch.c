/* Noticing clients that hang up while their request is being handled.
 *
 * A handler runs on the thread that read its request, so that thread cannot
 * see its own connection close until the handler returns. One watcher thread
 * per server looks, every PL__HTTP_WATCH_TICK_MS, at the connections whose
 * handler has been running for at least that long, and sets their request's
 * `cancelled` flag when the peer has closed (or reset) the connection; a
 * model run checks that flag between kernels. Short requests only take a
 * mutex twice, and the watcher sleeps without a timeout while no handler
 * runs. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/http_internal.h"
#include "base/clock.h"

struct pl__http_watch {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    pthread_t thread;
    bool stop;
    bool idle;                 /* the watcher waits without a timeout */
    pl__http_watched *head;    /* handlers running now */
    uint64_t next_id;
    int cap;                   /* most entries looked at per tick */
    struct pollfd *fds;        /* cap of each, used by the watcher only */
    pl__http_watched **who;
    uint64_t *ids;
};

static bool still_watched(const pl__http_watch *w, const pl__http_watched *e, uint64_t id) {
    for (const pl__http_watched *p = w->head; p; p = p->next)
        if (p == e) return p->id == id;
    return false;
}

static void *watch_main(void *arg) {
    pl__http_watch *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->stop) {
        if (!w->head) {
            w->idle = true;
            pthread_cond_wait(&w->wake, &w->lock);
            w->idle = false;
            continue;
        }
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += PL__HTTP_WATCH_TICK_MS * 1000000L;
        until.tv_sec += until.tv_nsec / 1000000000L;
        until.tv_nsec %= 1000000000L;
        int rc = pthread_cond_timedwait(&w->wake, &w->lock, &until);
        if (w->stop) break;
        if (rc != ETIMEDOUT) continue;
        /* Handlers that were already running a tick ago. */
        int64_t old = pl_clock_now_ns() - (int64_t)PL__HTTP_WATCH_TICK_MS * 1000000;
        int n = 0;
        for (pl__http_watched *e = w->head; e && n < w->cap; e = e->next) {
            if (e->since_ns > old || atomic_load_explicit(&e->cancelled, memory_order_relaxed)) continue;
            w->fds[n] = (struct pollfd){.fd = e->fd, .events = POLLRDHUP};
            w->who[n] = e;
            w->ids[n] = e->id;
            n++;
        }
        if (!n) continue;
        pthread_mutex_unlock(&w->lock);
        /* A descriptor may be closed and reused meanwhile: results are only
         * applied to entries still registered under the same id. */
        int ready = poll(w->fds, (nfds_t)n, 0);
        pthread_mutex_lock(&w->lock);
        for (int i = 0; ready > 0 && i < n; i++) {
            if (!(w->fds[i].revents & (POLLRDHUP | POLLHUP | POLLERR))) continue;
            if (still_watched(w, w->who[i], w->ids[i]))
                atomic_store_explicit(&w->who[i]->cancelled, 1, memory_order_relaxed);
        }
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

pl_status pl__http_watch_start(int max_entries, pl__http_watch **out) {
    *out = NULL;
    pl__http_watch *w = calloc(1, sizeof *w);
    if (!w) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    w->cap = max_entries > 0 ? max_entries : 1;
    w->fds = calloc((size_t)w->cap, sizeof *w->fds);
    w->who = calloc((size_t)w->cap, sizeof *w->who);
    w->ids = calloc((size_t)w->cap, sizeof *w->ids);
    pthread_condattr_t ca;
    bool attr = !pthread_condattr_init(&ca);
    if (attr) pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    if (!w->fds || !w->who || !w->ids || !attr || pthread_cond_init(&w->wake, &ca)) {
        if (attr) pthread_condattr_destroy(&ca);
        free(w->fds);
        free(w->who);
        free(w->ids);
        free(w);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&w->lock, NULL);
    if (pthread_create(&w->thread, NULL, watch_main, w)) {
        pthread_cond_destroy(&w->wake);
        pthread_mutex_destroy(&w->lock);
        free(w->fds);
        free(w->who);
        free(w->ids);
        free(w);
        return pl_error(PL_RESOURCE_EXHAUSTED, "Could not start the HTTP connection watcher thread");
    }
    *out = w;
    return NULL;
}

void pl__http_watch_stop(pl__http_watch *w) {
    if (!w) return;
    pthread_mutex_lock(&w->lock);
    w->stop = true;
    pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
    pthread_join(w->thread, NULL);
    pthread_cond_destroy(&w->wake);
    pthread_mutex_destroy(&w->lock);
    free(w->fds);
    free(w->who);
    free(w->ids);
    free(w);
}

void pl__http_watch_add(pl__http_watch *w, pl__http_watched *e, int fd) {
    e->fd = fd;
    atomic_init(&e->cancelled, 0);
    e->since_ns = pl_clock_now_ns();
    e->prev = NULL;
    pthread_mutex_lock(&w->lock);
    e->id = ++w->next_id;
    e->next = w->head;
    if (w->head) w->head->prev = e;
    w->head = e;
    /* Only a watcher asleep for good needs waking; a ticking one sees the
     * entry at its next tick. */
    if (w->idle) pthread_cond_signal(&w->wake);
    pthread_mutex_unlock(&w->lock);
}

void pl__http_watch_remove(pl__http_watch *w, pl__http_watched *e) {
    pthread_mutex_lock(&w->lock);
    if (e->prev) e->prev->next = e->next;
    else w->head = e->next;
    if (e->next) e->next->prev = e->prev;
    pthread_mutex_unlock(&w->lock);
    e->next = e->prev = NULL;
}
