/* oneDNN glue: the CPU engine, status translation, implementation choice and
 * execution (see dnnl_glue.h). */
#include "ops/dnnl_glue.h"

#include <stdlib.h>
#include <string.h>

static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static dnnl_engine_t engine;
static dnnl_status_t engine_status;

static void engine_create(void) { engine_status = dnnl_engine_create(&engine, dnnl_cpu, 0); }

pl_status pl__dnnl_engine(dnnl_engine_t *out) {
    pthread_once(&engine_once, engine_create);
    *out = engine;
    return pl__dnnl_check(engine_status, "creating the oneDNN CPU engine");
}

static const char *status_text(dnnl_status_t s) {
    switch (s) {
    case dnnl_out_of_memory: return "out of memory";
    case dnnl_invalid_arguments: return "invalid arguments";
    case dnnl_unimplemented: return "unimplemented";
    case dnnl_iterator_ends: return "no implementation";
    case dnnl_runtime_error: return "runtime error";
    case dnnl_not_required: return "not required";
    default: return "error";
    }
}

pl_status pl__dnnl_check(dnnl_status_t s, const char *what) {
    if (s == dnnl_success) return NULL;
    return pl_error(s == dnnl_out_of_memory ? PL_RESOURCE_EXHAUSTED : PL_INTERNAL, "oneDNN: %s: %s", what,
                    status_text(s));
}

pl_status pl__dnnl_attr(dnnl_primitive_attr_t *attr) {
    PL_TRY(pl__dnnl_check(dnnl_primitive_attr_create(attr), "dnnl_primitive_attr_create"));
    pl_status st = pl__dnnl_check(dnnl_primitive_attr_set_scratchpad_mode(*attr, dnnl_scratchpad_mode_user),
                                  "setting the scratchpad mode");
    if (st) dnnl_primitive_attr_destroy(*attr);
    return st;
}

const char *pl__dnnl_impl_name(const_dnnl_primitive_desc_t pd) {
    const char *name = NULL;
    if (dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, &name) != dnnl_success || !name) return "?";
    return name;
}

pl_status pl__dnnl_pd_fast(const_dnnl_op_desc_t op_desc, dnnl_primitive_desc_t *pd) {
    return pl__dnnl_pd_fast_hint(op_desc, NULL, pd);
}

pl_status pl__dnnl_pd_fast_hint(const_dnnl_op_desc_t op_desc, const_dnnl_primitive_desc_t hint,
                                dnnl_primitive_desc_t *pd) {
    *pd = NULL;
    dnnl_engine_t eng;
    PL_TRY(pl__dnnl_engine(&eng));
    dnnl_primitive_attr_t attr;
    PL_TRY(pl__dnnl_attr(&attr));
    dnnl_primitive_desc_iterator_t it;
    dnnl_status_t s = dnnl_primitive_desc_iterator_create(&it, op_desc, attr, eng, hint);
    dnnl_primitive_attr_destroy(attr);
    if (s == dnnl_unimplemented || s == dnnl_invalid_arguments) return NULL;
    PL_TRY(pl__dnnl_check(s, "dnnl_primitive_desc_iterator_create"));
    do {
        dnnl_primitive_desc_t cand = dnnl_primitive_desc_iterator_fetch(it);
        if (!cand) break;
        if (strncmp(pl__dnnl_impl_name(cand), "ref", 3) != 0) {
            *pd = cand;
            break;
        }
        dnnl_primitive_desc_destroy(cand);
    } while (dnnl_primitive_desc_iterator_next(it) == dnnl_success);
    dnnl_primitive_desc_iterator_destroy(it);
    return NULL;
}

pl_status pl__dnnl_md_plain(dnnl_memory_desc_t *md, int rank, const int64_t *dims) {
    dnnl_dims_t d, strides;
    int64_t stride = 1;
    for (int i = rank - 1; i >= 0; i--) {
        d[i] = dims[i];
        strides[i] = stride;
        stride *= dims[i] > 0 ? dims[i] : 1;
    }
    return pl__dnnl_check(dnnl_memory_desc_init_by_strides(md, rank, d, dnnl_f32, strides),
                          "describing a plain tensor");
}

/* The memory objects of one execution, destroyed together. */
#define RUN_ARGS_MAX 8

pl_status pl__dnnl_run(dnnl_primitive_t prim, const_dnnl_primitive_desc_t pd, int nargs,
                       const pl__dnnl_arg *args) {
    if (PL_NEVER(nargs > RUN_ARGS_MAX - 1)) return pl_error(PL_INTERNAL, "too many oneDNN arguments");
    dnnl_engine_t eng;
    PL_TRY(pl__dnnl_engine(&eng));
    dnnl_exec_arg_t exec[RUN_ARGS_MAX];
    int n = 0;
    void *scratch = NULL;
    dnnl_stream_t stream = NULL;
    pl_status st = NULL;
    for (int i = 0; i < nargs && !st; i++) {
        st = pl__dnnl_check(dnnl_memory_create(&exec[n].memory, args[i].md, eng, args[i].data), "dnnl_memory_create");
        if (!st) exec[n++].arg = args[i].arg;
    }
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    size_t ssize = smd ? dnnl_memory_desc_get_size(smd) : 0;
    if (!st && ssize) {
        scratch = aligned_alloc(64, (ssize + 63) & ~(size_t)63);
        if (!scratch) st = pl_error(PL_RESOURCE_EXHAUSTED, "cannot allocate %zu bytes of scratchpad", ssize);
        if (!st) st = pl__dnnl_check(dnnl_memory_create(&exec[n].memory, smd, eng, scratch), "dnnl_memory_create");
        if (!st) exec[n++].arg = DNNL_ARG_SCRATCHPAD;
    }
    if (!st) st = pl__dnnl_check(dnnl_stream_create(&stream, eng, dnnl_stream_default_flags), "dnnl_stream_create");
    if (!st) st = pl__dnnl_check(dnnl_primitive_execute(prim, stream, n, exec), "dnnl_primitive_execute");
    if (!st) st = pl__dnnl_check(dnnl_stream_wait(stream), "dnnl_stream_wait");
    if (stream) dnnl_stream_destroy(stream);
    for (int i = 0; i < n; i++) dnnl_memory_destroy(exec[i].memory);
    free(scratch);
    return st;
}
