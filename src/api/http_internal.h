/* What the HTTP server files share: the watcher that flags requests whose
 * client hung up while their handler ran (http_watch.c), used by http.c. */
#ifndef PL_API_HTTP_INTERNAL_H
#define PL_API_HTTP_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "base/status.h"

/* How often the watcher looks, and how long a handler runs before it is
 * looked at. */
#define PL__HTTP_WATCH_TICK_MS 100

/* One running handler; lives on the handler's stack between add and remove. */
typedef struct pl__http_watched {
    int fd;                          /* the connection's socket */
    atomic_int cancelled;            /* set once the peer has closed it */
    int64_t since_ns;                /* when the handler started */
    uint64_t id;                     /* tells a reused stack slot from the old entry */
    struct pl__http_watched *prev, *next;
} pl__http_watched;

typedef struct pl__http_watch pl__http_watch;

/* `max_entries`: most handlers that run at once (one per server thread). */
pl_status pl__http_watch_start(int max_entries, pl__http_watch **out);
void pl__http_watch_stop(pl__http_watch *w);   /* every entry must have been removed; NULL is fine */
void pl__http_watch_add(pl__http_watch *w, pl__http_watched *e, int fd);
void pl__http_watch_remove(pl__http_watch *w, pl__http_watched *e);

#endif
