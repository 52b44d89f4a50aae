/* Shared by the model fuzz targets: load a model from a path and run every
 * signature once with small feeds of its declared dtypes under a short
 * deadline. Loading or running may fail; neither may crash, leak or hang. */
#ifndef PL_FUZZ_MODEL_RUN_H
#define PL_FUZZ_MODEL_RUN_H

#include <stdint.h>
#include <time.h>

#include "runtime/model.h"

enum { MAX_FEEDS = 16, MAX_FETCHES = 16, UNKNOWN_DIM = 2, MAX_FEED_ELEMENTS = 4096 };

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A small feed for one input: unknown rank becomes a vector, unknown dims 2,
 * numbers 1 (a zero would make every division and log degenerate at once). */
static pl_tensor *make_feed(const pl_tensor_info *in) {
    int rank = in->rank < 0 ? 1 : in->rank;
    int64_t dims[PL_MAX_RANK], count = 1;
    for (int d = 0; d < rank; d++) {
        dims[d] = in->rank < 0 || in->dims[d] < 0 ? UNKNOWN_DIM : in->dims[d];
        if (dims[d] > MAX_FEED_ELEMENTS) return NULL;
        count *= dims[d];
        if (count > MAX_FEED_ELEMENTS) return NULL;
    }
    pl_tensor *t = NULL;
    pl_status st = pl_tensor_zeros(in->dtype, rank, dims, &t);
    if (st) {
        pl_status_free(st);
        return NULL;
    }
    if (in->dtype == PL_DT_FLOAT)
        for (int64_t i = 0; i < t->count; i++) ((float *)t->data)[i] = 1.0f;
    else if (in->dtype == PL_DT_INT32)
        for (int64_t i = 0; i < t->count; i++) ((int32_t *)t->data)[i] = 1;
    else if (in->dtype == PL_DT_INT64)
        for (int64_t i = 0; i < t->count; i++) ((int64_t *)t->data)[i] = 1;
    return t;
}

static void run_signature(pl_model *m, const pl_signature *sig) {
    if (sig->num_inputs > MAX_FEEDS || sig->num_outputs > MAX_FETCHES) return;
    const char *feed_names[MAX_FEEDS], *fetch_names[MAX_FETCHES];
    pl_tensor *feeds[MAX_FEEDS] = {0}, *fetched[MAX_FETCHES] = {0};
    int n = 0;
    for (; n < sig->num_inputs; n++) {
        feed_names[n] = sig->inputs[n].tensor_name;
        feeds[n] = make_feed(&sig->inputs[n]);
        if (!feeds[n]) break;
    }
    if (n == sig->num_inputs) {
        for (int i = 0; i < sig->num_outputs; i++) fetch_names[i] = sig->outputs[i].tensor_name;
        /* While loops that never end stop at the deadline. */
        pl_run_options opt = {.deadline_ns = now_ns() + 200 * 1000000LL};
        pl_status st = pl_model_run(m, &opt, n, feed_names, feeds, sig->num_outputs, fetch_names, fetched);
        if (st) pl_status_free(st);
        for (int i = 0; i < sig->num_outputs; i++) pl_tensor_unref(fetched[i]);
    }
    for (int i = 0; i <= n && i < sig->num_inputs; i++) pl_tensor_unref(feeds[i]);
}

static void fuzz_load_and_run(const char *path) {
    pl_model *m = NULL;
    pl_status st = pl_model_load(path, NULL, &m);
    if (st) {
        pl_status_free(st);
        return;
    }
    for (int i = 0; i < pl_model_num_signatures(m); i++) run_signature(m, pl_model_signature(m, i));
    pl_model_free(m);
}

#endif
