/* The gRPC server loop on the core C API: registered methods with their
 * request payload read up front, one completion queue per worker thread, a
 * fixed set of reusable call slots per method and thread, and calls answered
 * on the thread that received them (no thread or queue hop per request).
 *
 * A call slot cycles REQUESTED (waiting for a call) → SENDING (response
 * batch started) → REQUESTED again. Slow methods (config reloads wait for
 * model loads) run on a thread of their own so they never hold a worker.
 *
 * A short call is one batch: the reply, with the close op. A model run that
 * lasts longer than POLL_EVERY_NS polls from the worker thread: it starts the
 * call's close batch on its own and looks, without waiting, at the worker's
 * queue for it, so a client that cancels or leaves stops the run between
 * kernels; the other events it takes from the queue meanwhile are handled
 * after the run (see "a long run's poll").
 *
 * Shutdown: once shutting_down is set no slot asks for a call again, and
 * every slot ends IDLE when its last call is answered or its request is
 * returned. gRPC may then still hold calls no slot will ever take: one whose
 * request message has not arrived, or one that arrived while
 * grpc_server_shutdown_and_notify ran (gRPC core checks for shutdown, without
 * a lock, before it queues a new call for a request; a call queued after the
 * requests were returned and before the shutdown flag is set waits for a
 * request nobody may make any more). Those are cancelled as soon as all
 * slots are IDLE; only calls a slot serves get the grace. */
#include <grpc/byte_buffer.h>
#include <grpc/byte_buffer_reader.h>
#include <grpc/grpc_security.h>
#include <grpc/support/time.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "api/grpc_internal.h"
#include "base/clock.h"
#include "base/heap.h"
#include "base/log.h"
#include "serving/metrics.h"

enum { SLOTS_PER_METHOD = 4, SLOTS_GENERIC = 2, MESSAGE_LIMIT = 1024 };

/* How often a running model looks whether its client is still there. */
#define POLL_EVERY_NS (20 * 1000 * 1000)

typedef struct method {
    const char *path;
    pl__grpc_handler handler;
    bool slow;
    bool health;
    bool runs;    /* runs a model: the run stops when the client leaves */
} method;

static const method methods[] = {
    {"/tensorflow.serving.PredictionService/Predict", pl__grpc_predict, false, false, true},
    {"/tensorflow.serving.PredictionService/Classify", pl__grpc_classify, false, false, true},
    {"/tensorflow.serving.PredictionService/Regress", pl__grpc_regress, false, false, true},
    {"/tensorflow.serving.PredictionService/MultiInference", pl__grpc_multi_inference, false, false, true},
    {"/tensorflow.serving.PredictionService/GetModelMetadata", pl__grpc_get_model_metadata, false, false, false},
    {"/tensorflow.serving.ModelService/GetModelStatus", pl__grpc_get_model_status, false, false, false},
    {"/tensorflow.serving.ModelService/HandleReloadConfigRequest", pl__grpc_reload_config, true, false, false},
    {"/grpc.health.v1.Health/Check", pl__grpc_health_check, false, true, false},
    {"/grpc.health.v1.Health/Watch", pl__grpc_health_watch, false, true, false},
};
#define NUM_METHODS ((int)(sizeof methods / sizeof methods[0]))

typedef enum phase { IDLE, REQUESTED, RUNNING, SENDING, WATCHING } phase;

typedef struct worker worker;

typedef struct call {
    pl_grpc_server *g;
    worker *w;
    int method;                /* index into methods, -1 for unregistered ones */
    phase phase;
    grpc_call *call;
    gpr_timespec deadline;
    grpc_metadata_array md;
    grpc_call_details details;
    grpc_byte_buffer *payload;
    grpc_byte_buffer *response;
    grpc_slice status_details;
    int cancelled;             /* the close batch's verdict */
    atomic_int run_cancelled;  /* what the model run checks */
    int64_t deadline_ns;       /* the run's deadline, 0: none */
    bool polled;               /* the run has polled (see slot_poll) */
    bool close_started;        /* the close batch runs apart from the reply */
    int pending;               /* SENDING: batches not yet completed */
    pl_arena arena;
    ProtobufCAllocator pb;
    pl__pb_pool pool;
    pl__grpc_gathered gathered;  /* a large Predict's tensor contents (see slot_handle) */
    bool has_gathered;
    size_t received_len;
    int watch_pending;         /* WATCHING: batches of the stream not yet completed */
    struct call *watch_next;   /* in the server's list of open watches */
} call;

/* An event a poll took from the worker's queue for another slot. */
typedef struct deferred {
    void *tag;
    bool success;
} deferred;

struct worker {
    pl_grpc_server *g;
    grpc_completion_queue *cq;
    pthread_t thread;
    bool started;
    bool cq_shut;              /* a poll saw the queue shut down */
    int num_calls;
    call *calls;
    /* Ring of deferred events, processed before the queue is read again.
     * Each slot has at most two batches or one request outstanding, so
     * 2 × num_calls entries always suffice. */
    deferred *later;
    int later_cap, later_head, later_len;
};

struct pl_grpc_server {
    pl_serving *serving;
    pl_grpc_options opt;
    grpc_server *server;
    void *handles[NUM_METHODS];
    int num_workers;
    worker *workers;
    atomic_bool shutting_down;
    /* Serialises asking gRPC for a call with setting shutting_down: every
     * request is queued before grpc_server_shutdown_and_notify returns them. */
    pthread_mutex_t request_mu;
    atomic_int live_slots;     /* slots not yet IDLE for good */
    int port;
    pthread_mutex_t watch_mu;  /* guards `watchers` */
    call *watchers;            /* open Health/Watch streams */
};

/* ---- call slots ---- */

/* The tag of a slot's close batch when it runs apart from the reply (a long
 * run's, a health watch's): the slot's address with its low bit set. */
static void *close_tag(call *c) { return (void *)((uintptr_t)c | 1); }

/* The slot takes no more calls: shutdown, or gRPC refused its request. */
static void slot_retire(call *c) {
    c->phase = IDLE;
    atomic_fetch_sub(&c->g->live_slots, 1);
}

static void slot_request(call *c) {
    pl_grpc_server *g = c->g;
    grpc_call_error err = GRPC_CALL_OK;
    pthread_mutex_lock(&g->request_mu);
    bool stopping = atomic_load(&g->shutting_down);
    if (!stopping) {
        c->phase = REQUESTED;
        if (c->method >= 0)
            err = grpc_server_request_registered_call(g->server, g->handles[c->method], &c->call, &c->deadline,
                                                      &c->md, &c->payload, c->w->cq, c->w->cq, c);
        else
            err = grpc_server_request_call(g->server, &c->call, &c->details, &c->md, c->w->cq, c->w->cq, c);
    }
    pthread_mutex_unlock(&g->request_mu);
    if (err != GRPC_CALL_OK) pl_log_error("gRPC: cannot request a call: %s", grpc_call_error_to_string(err));
    if (stopping || err != GRPC_CALL_OK) slot_retire(c);
}

/* Releases what one call used; the slot keeps its arena's first chunk. */
static void slot_recycle(call *c) {
    if (c->call) grpc_call_unref(c->call);
    c->call = NULL;
    if (c->payload) grpc_byte_buffer_destroy(c->payload);
    c->payload = NULL;
    if (c->response) grpc_byte_buffer_destroy(c->response);
    c->response = NULL;
    grpc_slice_unref(c->status_details);
    c->status_details = grpc_empty_slice();
    grpc_metadata_array_destroy(&c->md);
    grpc_metadata_array_init(&c->md);
    if (c->method < 0) {
        grpc_call_details_destroy(&c->details);
        grpc_call_details_init(&c->details);
    }
    pl_arena_reset(&c->arena);
    pl__pb_pool_release(&c->pool);
    /* A large request's receive buffers, tensors and activations are all freed now. */
    if (c->received_len >= PL_HEAP_TRIM_AFTER) pl_heap_trim();
    c->has_gathered = false;
    c->received_len = 0;
    c->polled = false;
    c->close_started = false;
    c->pending = 0;
}

/* Sends the response (or the error) and the status in one batch. Takes `body`. */
static void slot_reply(call *c, pl_status st, grpc_slice body) {
    grpc_op ops[4];
    memset(ops, 0, sizeof ops);
    int n = 0;
    ops[n++].op = GRPC_OP_SEND_INITIAL_METADATA;
    if (!st) {
        c->response = grpc_raw_byte_buffer_create(&body, 1);
        ops[n].op = GRPC_OP_SEND_MESSAGE;
        ops[n++].data.send_message.send_message = c->response;
    }
    grpc_slice_unref(body);
    /* grpc_status_util.cc: messages are cut to 1024 chars plus "...TRUNCATED". */
    const char *msg = pl_status_message(st);
    size_t len = strlen(msg);
    if (len > MESSAGE_LIMIT) {
        char *cut = malloc(MESSAGE_LIMIT + 13);
        if (cut) {
            memcpy(cut, msg, MESSAGE_LIMIT);
            memcpy(cut + MESSAGE_LIMIT, "...TRUNCATED", 13);
            c->status_details = grpc_slice_from_copied_buffer(cut, MESSAGE_LIMIT + 12);
            free(cut);
        } else {
            c->status_details = grpc_slice_from_copied_buffer(msg, MESSAGE_LIMIT);
        }
    } else {
        c->status_details = grpc_slice_from_copied_buffer(msg, len);
    }
    ops[n].op = GRPC_OP_SEND_STATUS_FROM_SERVER;
    ops[n].data.send_status_from_server.status = (grpc_status_code)pl_status_code(st);
    ops[n++].data.send_status_from_server.status_details = &c->status_details;
    if (!c->close_started) {
        ops[n].op = GRPC_OP_RECV_CLOSE_ON_SERVER;
        ops[n++].data.recv_close_on_server.cancelled = &c->cancelled;
    }
    pl_status_free(st);
    c->phase = SENDING;
    /* Counted first: a reply sent from a slow method's thread may complete
     * on the worker before this thread goes on. */
    c->pending++;
    grpc_call_error err = grpc_call_start_batch(c->call, ops, (size_t)n, c, NULL);
    if (err != GRPC_CALL_OK) {
        pl_log_error("gRPC: cannot send a response: %s", grpc_call_error_to_string(err));
        if (--c->pending > 0) {
            grpc_call_cancel(c->call, NULL);  /* its close batch then completes, and recycles the slot */
            return;
        }
        slot_recycle(c);
        slot_request(c);
    }
}

/* One of a SENDING slot's batches completed: the last recycles the slot. */
static void slot_batch_done(call *c) {
    if (--c->pending > 0) return;
    slot_recycle(c);
    slot_request(c);
}

/* gRPC deadline → CLOCK_MONOTONIC nanoseconds for the runtime; 0 = none. */
static int64_t deadline_ns(gpr_timespec d) {
    if (d.clock_type == GPR_TIMESPAN || gpr_time_cmp(d, gpr_inf_future(d.clock_type)) >= 0) return 0;
    gpr_timespec left = gpr_time_sub(d, gpr_now(d.clock_type));
    int64_t left_ns = (int64_t)left.tv_sec * 1000000000 + left.tv_nsec;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    int64_t ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec + left_ns;
    return ns > 0 ? ns : 1;
}

typedef struct slow_job {
    call *c;
    grpc_slice req;
} slow_job;

/* The "API" label of TF Serving's request metrics (prediction_service_impl.cc):
 * only these three calls are counted. */
static const char *metric_api(pl__grpc_handler h) {
    return h == pl__grpc_predict ? "Predict" : h == pl__grpc_classify ? "Classify" : h == pl__grpc_regress ? "Regress" : NULL;
}

static void slot_poll(void *arg);

static void run_handler(call *c, grpc_slice *req) {
    const uint8_t *data = GRPC_SLICE_START_PTR(*req);
    size_t len = GRPC_SLICE_LENGTH(*req);
    int64_t start = pl_clock_now_ns();
    c->deadline_ns = deadline_ns(c->deadline);
    atomic_store_explicit(&c->run_cancelled, 0, memory_order_relaxed);
    pl__grpc_call_ctx ctx = {
        .request = req,
        .server = c->g,
        .serving = c->g->serving,
        .arena = &c->arena,
        .pb = &c->pb,
        .run = {.deadline_ns = c->deadline_ns},
        .opt = &c->g->opt,
        .gathered = c->has_gathered ? &c->gathered : NULL,
        .received_len = c->received_len,
    };
    /* The poll reads the worker's queue: only for runs on the worker thread. */
    if (methods[c->method].runs && !methods[c->method].slow) {
        ctx.run.cancelled = &c->run_cancelled;
        ctx.run.poll = slot_poll;
        ctx.run.poll_arg = c;
        ctx.run.poll_every_ns = POLL_EVERY_NS;
    }
    grpc_slice body = grpc_empty_slice();
    pl_status st = methods[c->method].handler(&ctx, data, len, &body);
    const char *api = metric_api(methods[c->method].handler);
    if (api) {
        const char *model = ctx.model_name ? ctx.model_name : "";
        if (!st) pl_metrics_record_request_latency(model, api, PL_ENTRYPOINT_GRPC, (pl_clock_now_ns() - start) / 1000);
        pl_metrics_record_request_count(model, pl_status_code(st));
    }
    slot_reply(c, st, body);
}

static void *slow_main(void *arg) {
    slow_job *job = arg;
    run_handler(job->c, &job->req);
    grpc_slice_unref(job->req);
    free(job);
    return NULL;
}

/* Copies the received pieces of a large message into one slice, letting each
 * piece go once copied and giving their memory back as it goes, so that the
 * receive buffers and the copy are not resident together. */
static grpc_slice gather_pieces(grpc_slice_buffer *pieces) {
    enum { TRIM_EVERY = 8 << 20 };
    grpc_slice out = grpc_slice_malloc(pieces->length);
    uint8_t *w = GRPC_SLICE_START_PTR(out);
    size_t since_trim = 0;
    for (size_t i = 0; i < pieces->count; i++) {
        size_t n = GRPC_SLICE_LENGTH(pieces->slices[i]);
        memcpy(w, GRPC_SLICE_START_PTR(pieces->slices[i]), n);
        w += n;
        grpc_slice_unref(pieces->slices[i]);
        pieces->slices[i] = grpc_empty_slice();
        if ((since_trim += n) >= TRIM_EVERY) {
            pl_heap_trim();
            since_trim = 0;
        }
    }
    if (pieces->length >= PL_HEAP_TRIM_AFTER) pl_heap_trim();
    return out;
}

/* The request message as one contiguous slice (a reference when it already is). */
static bool read_payload(grpc_byte_buffer *bb, grpc_slice *out) {
    grpc_byte_buffer_reader reader;
    if (!grpc_byte_buffer_reader_init(&reader, bb)) return false;
    grpc_slice *first;
    bool raw = bb->type == GRPC_BB_RAW && bb->data.raw.compression == GRPC_COMPRESS_NONE;
    if (raw && bb->data.raw.slice_buffer.count == 1 && grpc_byte_buffer_reader_peek(&reader, &first)) {
        *out = grpc_slice_ref(*first);
    } else if (raw && bb->data.raw.slice_buffer.length >= PL__GATHER_FROM) {
        *out = gather_pieces(&bb->data.raw.slice_buffer);
    } else {
        grpc_byte_buffer_reader_destroy(&reader);
        if (!grpc_byte_buffer_reader_init(&reader, bb)) return false;
        *out = grpc_byte_buffer_reader_readall(&reader);
    }
    grpc_byte_buffer_reader_destroy(&reader);
    return true;
}

/* ---- health watches ----
 *
 * grpc.health.v1.Health/Watch sends the current status and keeps the stream
 * open until the client leaves; statuses never change while plinth serves.
 * The slot runs two batches: the first message, and a close watch whose tag
 * is the slot's address with its low bit set. The slot is recycled once both
 * have completed, on its worker thread. At shutdown open watches end as the
 * default health service of gRPC C++ ends them. */

static void watch_done(call *c);

static void watch_start(call *c, grpc_slice *req) {
    pl_grpc_server *g = c->g;
    pl__grpc_call_ctx ctx = {.request = req, .server = g, .serving = g->serving, .arena = &c->arena,
                             .pb = &c->pb, .opt = &g->opt};
    grpc_slice body = grpc_empty_slice();
    pl_status st = methods[c->method].handler(&ctx, GRPC_SLICE_START_PTR(*req), GRPC_SLICE_LENGTH(*req), &body);
    if (st) {
        slot_reply(c, st, body);
        return;
    }
    c->response = grpc_raw_byte_buffer_create(&body, 1);
    grpc_slice_unref(body);
    grpc_op send[2], close;
    memset(send, 0, sizeof send);
    memset(&close, 0, sizeof close);
    send[0].op = GRPC_OP_SEND_INITIAL_METADATA;
    send[1].op = GRPC_OP_SEND_MESSAGE;
    send[1].data.send_message.send_message = c->response;
    close.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
    close.data.recv_close_on_server.cancelled = &c->cancelled;
    c->phase = WATCHING;
    c->watch_pending = 1;  /* this function's own hold, dropped below */
    pthread_mutex_lock(&g->watch_mu);
    c->watch_next = g->watchers;
    g->watchers = c;
    if (grpc_call_start_batch(c->call, &close, 1, close_tag(c), NULL) == GRPC_CALL_OK) c->watch_pending++;
    if (grpc_call_start_batch(c->call, send, 2, c, NULL) == GRPC_CALL_OK) c->watch_pending++;
    /* A stream that opened after the shutdown began is ended at once. */
    if (atomic_load(&g->shutting_down) || c->watch_pending < 3)
        grpc_call_cancel_with_status(c->call, GRPC_STATUS_CANCELLED, "not writing due to shutdown", NULL);
    pthread_mutex_unlock(&g->watch_mu);
    watch_done(c);
}

static void watch_done(call *c) {
    if (--c->watch_pending > 0) return;
    pl_grpc_server *g = c->g;
    pthread_mutex_lock(&g->watch_mu);
    for (call **p = &g->watchers; *p; p = &(*p)->watch_next)
        if (*p == c) {
            *p = c->watch_next;
            break;
        }
    pthread_mutex_unlock(&g->watch_mu);
    slot_recycle(c);
    slot_request(c);
}

static void watch_end_all(pl_grpc_server *g) {
    pthread_mutex_lock(&g->watch_mu);
    for (call *c = g->watchers; c; c = c->watch_next)
        grpc_call_cancel_with_status(c->call, GRPC_STATUS_CANCELLED, "not writing due to shutdown", NULL);
    pthread_mutex_unlock(&g->watch_mu);
}

static void slot_handle(call *c) {
    if (c->method < 0) {
        /* What gRPC C++ answers for a method no service registered. */
        slot_reply(c, pl_error(PL_UNIMPLEMENTED, "%s", ""), grpc_empty_slice());
        return;
    }
    grpc_slice req;
    grpc_byte_buffer *bb = c->payload;
    c->received_len = bb ? grpc_byte_buffer_length(bb) : 0;
    if (bb && bb->type == GRPC_BB_RAW && bb->data.raw.compression == GRPC_COMPRESS_NONE &&
        methods[c->method].handler == pl__grpc_predict && c->received_len >= PL__GATHER_FROM) {
        /* A large Predict: its tensors go straight from the received pieces into their own blocks. */
        pl_status st =
            pl__grpc_gather(&bb->data.raw.slice_buffer, PL__PB_BIG, &c->pool, &c->arena, &req, &c->gathered);
        if (st) {
            slot_reply(c, st, grpc_empty_slice());
            return;
        }
        c->has_gathered = true;
    } else if (!bb || !read_payload(bb, &req)) {
        slot_reply(c, pl_error(PL_INTERNAL, "Failed to parse request"), grpc_empty_slice());
        return;
    }
    /* req holds the bytes (or a reference to them): the payload can go now. */
    grpc_byte_buffer_destroy(c->payload);
    c->payload = NULL;
    if (methods[c->method].handler == pl__grpc_health_watch) {
        watch_start(c, &req);
        grpc_slice_unref(req);
        return;
    }
    if (methods[c->method].slow) {
        slow_job *job = malloc(sizeof *job);
        pthread_t t;
        pthread_attr_t attr;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (job) {
            *job = (slow_job){c, req};
            c->phase = RUNNING;
            if (pthread_create(&t, &attr, slow_main, job) == 0) {
                pthread_attr_destroy(&attr);
                return;
            }
            free(job);
        }
        pthread_attr_destroy(&attr);
        grpc_slice_unref(req);
        slot_reply(c, pl_error(PL_RESOURCE_EXHAUSTED, "cannot start a thread for this call"), grpc_empty_slice());
        return;
    }
    run_handler(c, &req);
    grpc_slice_unref(req);
}

/* ---- a long run's poll ----
 *
 * A call's close batch (RECV_CLOSE_ON_SERVER) normally goes with its reply,
 * so a short call costs one batch. A run still going after POLL_EVERY_NS
 * starts the close batch on its own, tagged with the slot's address with its
 * low bit set, and from then on reads the worker's queue without waiting at
 * each poll: the close batch completing before the reply means the client
 * cancelled or left, and the run is cancelled. Other events taken from the
 * queue meanwhile (new calls of the worker's other slots, their batches) are
 * kept in the worker's ring and handled, in order, once the run is over. The
 * slot is recycled when both its close and reply batches have completed.
 *
 * A client cancels at its deadline too, and the server's copy of that
 * deadline (grpc-timeout counted from when the server read the headers) is
 * later by however long the headers took to be read, which a loaded machine
 * stretches to hundreds of milliseconds. A cancel that comes within
 * DEADLINE_SLACK_NS of the deadline is left to the run's own deadline check,
 * so that the call ends as DEADLINE_EXCEEDED, as it does in TF Serving; the
 * run goes on at most that much longer. */

static void defer_event(worker *w, void *tag, bool success) {
    w->later[(w->later_head + w->later_len++) % w->later_cap] = (deferred){tag, success};
}

static void close_seen(call *c) {
    enum { DEADLINE_SLACK_NS = 1000 * 1000 * 1000 };
    if (c->cancelled && !(c->deadline_ns && pl_clock_now_ns() >= c->deadline_ns - DEADLINE_SLACK_NS))
        atomic_store_explicit(&c->run_cancelled, 1, memory_order_relaxed);
}

/* pl_run_options.poll of a call's model runs, on the worker thread. */
static void slot_poll(void *arg) {
    call *c = arg;
    worker *w = c->w;
    if (!c->polled) {
        c->polled = true;
        grpc_op close;
        memset(&close, 0, sizeof close);
        close.op = GRPC_OP_RECV_CLOSE_ON_SERVER;
        close.data.recv_close_on_server.cancelled = &c->cancelled;
        grpc_call_error err = grpc_call_start_batch(c->call, &close, 1, close_tag(c), NULL);
        if (err != GRPC_CALL_OK) {
            pl_log_error("gRPC: cannot watch a call for its client leaving: %s", grpc_call_error_to_string(err));
            return;
        }
        c->close_started = true;
        c->pending++;
    }
    while (!w->cq_shut && w->later_len < w->later_cap) {
        grpc_event ev = grpc_completion_queue_next(w->cq, gpr_inf_past(GPR_CLOCK_MONOTONIC), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN) w->cq_shut = true;
        if (ev.type != GRPC_OP_COMPLETE) break;
        if (ev.tag == close_tag(c)) {
            c->pending--;
            close_seen(c);
        } else {
            defer_event(w, ev.tag, ev.success);
        }
    }
}

/* A new call, or a batch of one of the worker's slots, completed. */
static void slot_event(void *tag, bool success) {
    call *c = (call *)((uintptr_t)tag & ~(uintptr_t)1);
    if (c->phase == WATCHING) {
        watch_done(c);
    } else if ((uintptr_t)tag & 1) {
        slot_batch_done(c);  /* a close batch a poll started, completing after the run */
    } else if (c->phase == REQUESTED) {
        if (success)
            slot_handle(c);
        else
            slot_retire(c);  /* the server is shutting down */
    } else if (c->phase == SENDING) {
        slot_batch_done(c);
    }
}

static void *worker_main(void *arg) {
    worker *w = arg;
    for (;;) {
        while (w->later_len > 0) {
            deferred d = w->later[w->later_head];
            w->later_head = (w->later_head + 1) % w->later_cap;
            w->later_len--;
            slot_event(d.tag, d.success);
        }
        if (w->cq_shut) break;
        grpc_event ev = grpc_completion_queue_next(w->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
        if (ev.type == GRPC_QUEUE_SHUTDOWN) break;
        if (ev.type != GRPC_OP_COMPLETE) continue;
        slot_event(ev.tag, ev.success);
    }
    return NULL;
}

/* ---- setup ---- */

/* --grpc_channel_arguments: "k=v,k=v"; an int32 value is passed as an int,
 * anything else as a string (server.cc parseGrpcChannelArgs). */
static int parse_channel_args(const char *text, grpc_arg *args, int max, char **storage) {
    int n = 0;
    *storage = strdup(text ? text : "");
    if (!*storage) return 0;
    char *save = NULL;
    for (char *item = strtok_r(*storage, ",", &save); item && n < max; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        if (!eq) {
            pl_log_warning("ignoring gRPC channel argument without a value: %s", item);
            continue;
        }
        *eq = 0;
        const char *value = eq + 1;
        char *end;
        long long v = strtoll(value, &end, 10);
        grpc_arg *a = &args[n++];
        a->key = item;
        if (*value && !*end && v >= INT32_MIN && v <= INT32_MAX) {
            a->type = GRPC_ARG_INTEGER;
            a->value.integer = (int)v;
        } else {
            a->type = GRPC_ARG_STRING;
            a->value.string = (char *)value;
        }
    }
    return n;
}

static int num_cpus(void) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n < 1024 ? (int)n : 1;
}

static pl_status add_port(pl_grpc_server *g, const char *addr, int *bound) {
    grpc_server_credentials *creds;
    PL_TRY(pl__grpc_credentials(&g->opt, &creds));
    int port = grpc_server_add_http2_port(g->server, addr, creds);
    grpc_server_credentials_release(creds);
    if (port <= 0) return pl_error(PL_UNAVAILABLE, "Failed to BuildAndStart gRPC server: cannot listen on %s", addr);
    if (bound) *bound = port;
    return NULL;
}

static void free_workers(pl_grpc_server *g) {
    for (int i = 0; i < g->num_workers; i++) {
        worker *w = &g->workers[i];
        for (int j = 0; j < w->num_calls; j++) {
            call *c = &w->calls[j];
            slot_recycle(c);
            grpc_metadata_array_destroy(&c->md);
            if (c->method < 0) grpc_call_details_destroy(&c->details);
            pl_arena_deinit(&c->arena);
        }
        free(w->calls);
        free(w->later);
    }
    free(g->workers);
    g->workers = NULL;
}

static pl_status make_workers(pl_grpc_server *g) {
    int n = g->opt.num_threads > 0 ? g->opt.num_threads : num_cpus();
    if (g->opt.max_threads > 0 && n > g->opt.max_threads) n = g->opt.max_threads;
    if (n < 1) n = 1;
    g->workers = calloc((size_t)n, sizeof *g->workers);
    if (!g->workers) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    g->num_workers = n;
    for (int i = 0; i < n; i++) {
        worker *w = &g->workers[i];
        w->g = g;
        w->cq = grpc_completion_queue_create_for_next(NULL);
        grpc_server_register_completion_queue(g->server, w->cq, NULL);
        int per_method = g->opt.slots_per_method > 0 ? g->opt.slots_per_method : SLOTS_PER_METHOD;
        int slots = SLOTS_GENERIC;
        for (int m = 0; m < NUM_METHODS; m++) slots += g->handles[m] ? per_method : 0;
        w->calls = calloc((size_t)slots, sizeof *w->calls);
        w->later = calloc(2 * (size_t)slots, sizeof *w->later);
        if (!w->calls || !w->later) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        w->num_calls = slots;
        w->later_cap = 2 * slots;
        int k = 0;
        for (int m = -1; m < NUM_METHODS; m++) {
            if (m >= 0 && !g->handles[m]) continue;
            for (int j = 0; j < (m < 0 ? SLOTS_GENERIC : per_method); j++) {
                call *c = &w->calls[k++];
                c->g = g;
                c->w = w;
                c->method = m;
                c->status_details = grpc_empty_slice();
                grpc_metadata_array_init(&c->md);
                if (m < 0) grpc_call_details_init(&c->details);
                pl_arena_init(&c->arena, 0);
                c->pool.arena = &c->arena;
                pl__pb_allocator(&c->pb, &c->pool);
            }
        }
    }
    return NULL;
}

pl_status pl_grpc_start(pl_serving *serving, const pl_grpc_options *opt, pl_grpc_server **out) {
    *out = NULL;
    pl_grpc_server *g = calloc(1, sizeof *g);
    if (!g) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    g->serving = serving;
    g->opt = *opt;
    atomic_init(&g->shutting_down, false);
    atomic_init(&g->live_slots, 0);
    pthread_mutex_init(&g->watch_mu, NULL);
    pthread_mutex_init(&g->request_mu, NULL);
    grpc_init();

    /* server.cc: SetMaxMessageSize(INT32_MAX); user arguments come after and win. */
    grpc_arg args[66];
    int nargs = 0;
    args[nargs].type = GRPC_ARG_INTEGER;
    args[nargs].key = GRPC_ARG_MAX_RECEIVE_MESSAGE_LENGTH;
    args[nargs++].value.integer = INT32_MAX;
    args[nargs].type = GRPC_ARG_INTEGER;
    args[nargs].key = GRPC_ARG_MAX_SEND_MESSAGE_LENGTH;
    args[nargs++].value.integer = INT32_MAX;
    char *storage = NULL;
    nargs += parse_channel_args(opt->channel_arguments, args + nargs, 64, &storage);
    grpc_channel_args cargs = {.num_args = (size_t)nargs, .args = args};
    g->server = grpc_server_create(&cargs, NULL);
    free(storage);

    for (int m = 0; m < NUM_METHODS; m++) {
        if (methods[m].health && !opt->enable_health) continue;
        g->handles[m] =
            grpc_server_register_method(g->server, methods[m].path, NULL, GRPC_SRM_PAYLOAD_READ_INITIAL_BYTE_BUFFER, 0);
    }
    pl_status st = NULL;
    char addr[4200];
    if (opt->port != 0) {
        snprintf(addr, sizeof addr, "0.0.0.0:%d", opt->port < 0 ? 0 : opt->port);
        st = add_port(g, addr, &g->port);
    }
    if (!st && opt->socket_path && *opt->socket_path) {
        snprintf(addr, sizeof addr, "unix:%s", opt->socket_path);
        st = add_port(g, addr, NULL);
    }
    if (!st) st = make_workers(g);
    if (st) {
        grpc_server_destroy(g->server);
        for (int i = 0; i < g->num_workers; i++)
            if (g->workers && g->workers[i].cq) {
                grpc_completion_queue_shutdown(g->workers[i].cq);
                while (grpc_completion_queue_next(g->workers[i].cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type !=
                       GRPC_QUEUE_SHUTDOWN) {
                }
                grpc_completion_queue_destroy(g->workers[i].cq);
            }
        if (g->workers) free_workers(g);
        grpc_shutdown();
        pthread_mutex_destroy(&g->watch_mu);
        pthread_mutex_destroy(&g->request_mu);
        free(g);
        return st;
    }
    grpc_server_start(g->server);
    for (int i = 0; i < g->num_workers; i++) {
        worker *w = &g->workers[i];
        atomic_fetch_add(&g->live_slots, w->num_calls);
        for (int j = 0; j < w->num_calls; j++) slot_request(&w->calls[j]);
        if (pthread_create(&w->thread, NULL, worker_main, w) == 0) w->started = true;
    }
    if (opt->port != 0) pl_log_info("Running gRPC ModelServer at 0.0.0.0:%d ...", g->port);
    if (opt->socket_path && *opt->socket_path)
        pl_log_info("Running gRPC ModelServer at UNIX socket %s ...", opt->socket_path);
    *out = g;
    return NULL;
}

int pl_grpc_port(const pl_grpc_server *g) { return g ? g->port : 0; }

/* Waits for gRPC's shutdown to finish. Calls that slots serve get GRACE_S
 * seconds. Once every slot is IDLE, gRPC gets SETTLE_MS to close the
 * connections those calls used; whatever it still holds then is a call no
 * slot will take, and is cancelled. POLL_MS bounds how late the last slot
 * going IDLE is noticed. */
static void await_shutdown(pl_grpc_server *g, grpc_completion_queue *done) {
    enum { GRACE_S = 30, SETTLE_MS = 200, POLL_MS = 10 };
    gpr_timespec grace = gpr_time_add(gpr_now(GPR_CLOCK_MONOTONIC), gpr_time_from_seconds(GRACE_S, GPR_TIMESPAN));
    gpr_timespec settle = grace;
    bool settling = false;
    for (;;) {
        gpr_timespec now = gpr_now(GPR_CLOCK_MONOTONIC);
        if (!settling && atomic_load(&g->live_slots) == 0) {
            settling = true;
            settle = gpr_time_add(now, gpr_time_from_millis(SETTLE_MS, GPR_TIMESPAN));
        }
        if (settling && gpr_time_cmp(now, settle) >= 0) break;
        if (gpr_time_cmp(now, grace) >= 0) {
            pl_log_warning("gRPC: calls still running after %d s; cancelling them", GRACE_S);
            break;
        }
        gpr_timespec wake = gpr_time_add(now, gpr_time_from_millis(POLL_MS, GPR_TIMESPAN));
        if (settling && gpr_time_cmp(wake, settle) > 0) wake = settle;
        if (grpc_completion_queue_pluck(done, g, wake, NULL).type == GRPC_OP_COMPLETE) return;
    }
    grpc_server_cancel_all_calls(g->server);
    grpc_completion_queue_pluck(done, g, gpr_inf_future(GPR_CLOCK_REALTIME), NULL);
}

void pl_grpc_stop(pl_grpc_server *g) {
    if (!g) return;
    pthread_mutex_lock(&g->request_mu);
    atomic_store(&g->shutting_down, true);
    pthread_mutex_unlock(&g->request_mu);
    watch_end_all(g);
    grpc_completion_queue *done = grpc_completion_queue_create_for_pluck(NULL);
    grpc_server_shutdown_and_notify(g->server, done, g);
    await_shutdown(g, done);
    grpc_server_destroy(g->server);
    for (int i = 0; i < g->num_workers; i++) grpc_completion_queue_shutdown(g->workers[i].cq);
    for (int i = 0; i < g->num_workers; i++) {
        worker *w = &g->workers[i];
        if (w->started) pthread_join(w->thread, NULL);
        else
            while (grpc_completion_queue_next(w->cq, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type != GRPC_QUEUE_SHUTDOWN) {
            }
        grpc_completion_queue_destroy(w->cq);
    }
    grpc_completion_queue_shutdown(done);
    while (grpc_completion_queue_pluck(done, NULL, gpr_inf_future(GPR_CLOCK_REALTIME), NULL).type != GRPC_QUEUE_SHUTDOWN) {
    }
    grpc_completion_queue_destroy(done);
    free_workers(g);
    grpc_shutdown();
    pthread_mutex_destroy(&g->watch_mu);
    pthread_mutex_destroy(&g->request_mu);
    free(g);
}
