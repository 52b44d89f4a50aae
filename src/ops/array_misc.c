/* CheckNumerics (fails on NaN or Inf with TensorFlow's message) and Bitcast
 * (reinterprets element bytes as another dtype). */
#include <math.h>
#include <string.h>

#include "ops/array_internal.h"

/* ---- CheckNumerics (check_numerics_op.cc) ---- */

pl_status pl__arr_prep_check_numerics(pl_kernel_prep *p) {
    const char *msg = "";
    size_t len = 0;
    if (pl_attr_has(p->attrs, "message")) PL_TRY(pl_attr_string(p->attrs, "message", &msg, &len));
    pl__arr_state *s;
    PL_TRY(pl__arr_state_new(p, len, &s));
    memcpy(s->text, msg, len);
    return NULL;
}

/* v1 names NaN and Inf; v2 tells -Inf from +Inf ("-Inf, +Inf, and NaN"). */
static pl_status check_numerics(pl_kernel_ctx *c, bool v2) {
    const pl__arr_state *s = c->state;
    const pl_tensor *in = c->inputs[0];
    bool nan = false, neg_inf = false, pos_inf = false;
    switch (in->dtype) {
    case PL_DT_FLOAT: case PL_DT_DOUBLE: case PL_DT_HALF: case PL_DT_BFLOAT16:
        for (int64_t i = 0; i < in->count; i++) {
            double v = pl_tensor_get_f64(in, i);
            nan |= isnan(v);
            neg_inf |= isinf(v) && v < 0;
            pos_inf |= isinf(v) && v > 0;
        }
        break;
    default:
        return pl_error(PL_INVALID_ARGUMENT, "CheckNumerics of %s is not supported", pl_dtype_name(in->dtype));
    }
    if (!nan && !neg_inf && !pos_inf) {
        pl_ctx_forward(c, 0, 0);
        return NULL;
    }
    if (!v2)
        return pl_error(PL_INVALID_ARGUMENT, "%s : Tensor had %s values", s->text,
                        nan && (neg_inf || pos_inf) ? "Inf and NaN" : nan ? "NaN" : "Inf");
    const char *names[3];
    int n = 0;
    if (neg_inf) names[n++] = "-Inf";
    if (pos_inf) names[n++] = "+Inf";
    if (nan) names[n++] = "NaN";
    if (n == 3) return pl_error(PL_INVALID_ARGUMENT, "%s : Tensor had -Inf, +Inf, and NaN values", s->text);
    if (n == 2) return pl_error(PL_INVALID_ARGUMENT, "%s : Tensor had %s and %s values", s->text, names[0], names[1]);
    return pl_error(PL_INVALID_ARGUMENT, "%s : Tensor had %s values", s->text, names[0]);
}

pl_status pl__arr_check_numerics(pl_kernel_ctx *c) { return check_numerics(c, false); }
pl_status pl__arr_check_numerics_v2(pl_kernel_ctx *c) { return check_numerics(c, true); }

/* ---- Bitcast (bitcast_op.cc) ---- */

pl_status pl__arr_prep_bitcast(pl_kernel_prep *p) {
    pl__arr_state *s;
    PL_TRY(pl__arr_state_new(p, 0, &s));
    PL_TRY(pl_attr_type(p->attrs, "type", &s->type));
    return NULL;
}

static bool plain(pl_dtype d) {
    return pl_dtype_valid(d) && d != PL_DT_STRING && d != PL_DT_RESOURCE && d != PL_DT_VARIANT;
}

pl_status pl__arr_bitcast(pl_kernel_ctx *c) {
    const pl__arr_state *s = c->state;
    const pl_tensor *in = c->inputs[0];
    pl_dtype to = s->type;
    char a[64];
    const char *ta = pl_dtype_string(in->dtype), *tb = pl_dtype_string(to);
    if (!plain(in->dtype) || !plain(to)) return pl_error(PL_INVALID_ARGUMENT, "Cannot bitcast from %s to %s", ta, tb);
    size_t in_size = pl_dtype_size(in->dtype), out_size = pl_dtype_size(to);
    int64_t dims[PL_MAX_RANK];
    memcpy(dims, in->dims, sizeof dims);
    int rank = in->rank;
    if (in_size > out_size) {
        if (rank == PL_MAX_RANK) return pl_error(PL_INVALID_ARGUMENT, "Bitcast: result has more than %d dimensions", rank);
        dims[rank++] = (int64_t)(in_size / out_size);
    } else if (in_size < out_size) {
        if (rank < 1 || (size_t)dims[rank - 1] != out_size / in_size)
            return pl_error(PL_INVALID_ARGUMENT, "Cannot bitcast from %s to %s: shape %s", ta, tb,
                            pl__arr_shape_str(in, a, sizeof a));
        rank--;
    }
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, to, rank, dims, &out));
    memcpy(out->data, in->data, pl_tensor_nbytes(in));
    return NULL;
}
