/* BatchingParameters: the text-format file of --batching_parameters_file and
 * of a SavedModel's batching_params.pbtxt, turned into plain values with the
 * defaults of TensorFlow's SharedBatchScheduler (spec 1e). */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pb/pb.h"
#include "serving/internal.h"
#include "tensorflow_serving/servables/tensorflow/session_bundle_config.pb-c.h"

/* A parameters file is a few lines; the cap only stops a wrong path. */
#define MAX_PARAMS_BYTES ((size_t)1 << 20)

static pl_status oom(void) { return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory"); }

pl_status pl_batching_params_init(pl_batching_params *p, const char *thread_pool_name) {
    memset(p, 0, sizeof *p);
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    /* shared_batch_scheduler.h QueueOptions / Options defaults. */
    p->max_batch_size = 1000;
    p->batch_timeout_micros = 0;
    p->max_enqueued_batches = 10;
    p->num_batch_threads = cpus > 0 && cpus < 4096 ? cpus : 1;
    p->max_execution_batch_size = 1000;
    p->thread_pool_name = pl__strdup(thread_pool_name ? thread_pool_name : "batch_threads");
    return p->thread_pool_name ? NULL : oom();
}

void pl_batching_params_clear(pl_batching_params *p) {
    if (!p) return;
    free(p->thread_pool_name);
    free(p->allowed_batch_sizes);
    memset(p, 0, sizeof *p);
}

pl_status pl_batching_params_copy(const pl_batching_params *src, pl_batching_params *dst) {
    *dst = *src;
    dst->thread_pool_name = pl__strdup(src->thread_pool_name ? src->thread_pool_name : "batch_threads");
    dst->allowed_batch_sizes = NULL;
    if (src->num_allowed_batch_sizes > 0) {
        dst->allowed_batch_sizes = malloc(sizeof(int64_t) * (size_t)src->num_allowed_batch_sizes);
        if (dst->allowed_batch_sizes)
            memcpy(dst->allowed_batch_sizes, src->allowed_batch_sizes,
                   sizeof(int64_t) * (size_t)src->num_allowed_batch_sizes);
    }
    if (!dst->thread_pool_name || (src->num_allowed_batch_sizes > 0 && !dst->allowed_batch_sizes)) {
        pl_batching_params_clear(dst);
        return oom();
    }
    return NULL;
}

/* bundle_factory_util.h GetQueueOptions / CreateBatchScheduler: only the
 * fields that are set replace a default. */
static pl_status from_proto(const Tensorflow__Serving__BatchingParameters *m, pl_batching_params *p) {
    if (m->max_batch_size) p->max_batch_size = m->max_batch_size->value;
    if (m->batch_timeout_micros) p->batch_timeout_micros = m->batch_timeout_micros->value;
    if (m->max_enqueued_batches) p->max_enqueued_batches = m->max_enqueued_batches->value;
    if (m->num_batch_threads) p->num_batch_threads = m->num_batch_threads->value;
    if (m->thread_pool_name) {
        char *name = pl__strdup(m->thread_pool_name->value ? m->thread_pool_name->value : "");
        if (!name) return oom();
        free(p->thread_pool_name);
        p->thread_pool_name = name;
    }
    p->enable_large_batch_splitting = m->enable_large_batch_splitting && m->enable_large_batch_splitting->value;
    /* Without its own value the execution size is max_batch_size's value. */
    p->max_execution_batch_size = m->max_execution_batch_size ? m->max_execution_batch_size->value
                                  : m->max_batch_size         ? m->max_batch_size->value
                                                              : p->max_execution_batch_size;
    p->pad_variable_length_inputs = m->pad_variable_length_inputs;
    if (m->n_allowed_batch_sizes > 0) {
        if (m->n_allowed_batch_sizes > 100000) return pl_error(PL_INVALID_ARGUMENT, "too many allowed_batch_sizes");
        int64_t *sizes = malloc(sizeof *sizes * m->n_allowed_batch_sizes);
        if (!sizes) return oom();
        memcpy(sizes, m->allowed_batch_sizes, sizeof *sizes * m->n_allowed_batch_sizes);
        free(p->allowed_batch_sizes);
        p->allowed_batch_sizes = sizes;
        p->num_allowed_batch_sizes = (int)m->n_allowed_batch_sizes;
    }
    return NULL;
}

pl_status pl_batching_params_read_file(const char *path, pl_batching_params *p) {
    ProtobufCMessage *msg;
    PL_TRY(pl_pb_read_text_file(&tensorflow__serving__batching_parameters__descriptor, path, MAX_PARAMS_BYTES, &msg));
    pl_status st = from_proto((const Tensorflow__Serving__BatchingParameters *)msg, p);
    protobuf_c_message_free_unpacked(msg, NULL);
    return st;
}
