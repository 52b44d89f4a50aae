/* POST :predict, :classify and :regress (spec/tfs-api.md 1c): the JSON body
 * decoded straight into tensors (api/json.h), the call run through serving on
 * the servable the decode resolved, and the outputs encoded back as TF
 * Serving's HttpRestApiHandler writes them. */
#include <stdlib.h>
#include <string.h>

#include "api/json.h"
#include "api/rest_internal.h"

/* The decoder asks for the signature's inputs once it knows the signature
 * name (GetInfoMap); the servable it resolves is kept for the run, so a
 * version swap between decoding and running cannot change the signature. */
typedef struct lookup_ctx {
    pl__rest_ctx *rest;
    const pl__rest_route *route;
    pl_servable *sv;
} lookup_ctx;

static pl_status lookup_inputs(void *arg, const char *signature_name, const pl_tensor_info **inputs,
                               int *num_inputs) {
    lookup_ctx *lc = arg;
    if (!lc->sv) {
        pl_model_spec spec = pl__rest_spec(lc->route, signature_name);
        PL_TRY(pl_serving_get_servable(lc->rest->serving, &spec, &lc->sv));
    }
    const char *key = pl_signature_key(signature_name);
    const pl_signature *sig = pl_model_find_signature(pl_servable_model(lc->sv), key);
    if (!sig) return pl_error(PL_INVALID_ARGUMENT, "Serving signature name: \"%s\" not found in signature def", key);
    *inputs = sig->inputs;
    *num_inputs = sig->num_inputs;
    return NULL;
}

/* Hands decoded input i over to serving, which passes it on to the run: the
 * run may then write over it (the normalised image over the request's) and
 * frees it as soon as the graph is done with it. */
static pl_status hand_over(void *ctx, int i, pl_tensor **out) {
    pl_json_predict *req = ctx;
    *out = req->tensors[i];
    req->tensors[i] = NULL;
    return *out ? NULL : pl_error(PL_INTERNAL, "input %d was handed over twice", i);
}

pl_status pl__rest_predict(pl__rest_ctx *ctx, const pl__rest_route *r, const char *body, size_t len,
                           pl_strbuf *out) {
    lookup_ctx lc = {.rest = ctx, .route = r};
    pl_json_predict req;
    pl_status st = pl_json_decode_predict(body, len, lookup_inputs, &lc, &req);
    if (st) {
        pl_servable_release(lc.sv);
        return st;
    }
    const pl_signature *sig;
    pl_predict_response resp = {0};
    st = pl_serving_predict_signature(lc.sv, req.signature_name, &sig);
    if (!st) {
        pl_predict_request preq = {
            .num_inputs = req.num_inputs,
            .input_aliases = (const char *const *)req.aliases,
            .decode = hand_over,
            .decode_ctx = &req,
        };
        pl_run_options run = pl__rest_run_options(ctx, r);
        st = pl_serving_predict(lc.sv, sig, &run, &preq, &resp);
    }
    if (!st)
        st = pl_json_encode_predict(req.format, resp.num_outputs, resp.aliases, resp.outputs, out);
    pl_predict_response_clear(&resp);
    pl_json_predict_deinit(&req);
    pl_servable_release(lc.sv);
    return st;
}

/* FillClassificationRequestFromJson / FillRegressionRequestFromJson, then
 * the servable of the route with the body's signature name. */
static pl_status decode_examples(pl__rest_ctx *ctx, const pl__rest_route *r, const char *body, size_t len,
                                 pl_json_examples *ex, pl_servable **sv, pl_examples *in) {
    PL_TRY(pl_json_decode_examples(body, len, ex));
    pl_model_spec spec = pl__rest_spec(r, ex->signature_name);
    pl_status st = pl_serving_get_servable(ctx->serving, &spec, sv);
    if (st) {
        pl_json_examples_deinit(ex);
        return st;
    }
    *in = (pl_examples){.num = ex->num_examples, .examples = ex->examples,
                        .context = ex->has_context ? &ex->context : NULL};
    return NULL;
}

pl_status pl__rest_classify(pl__rest_ctx *ctx, const pl__rest_route *r, const char *body, size_t len,
                            pl_strbuf *out) {
    pl_json_examples ex;
    pl_servable *sv;
    pl_examples in;
    PL_TRY(decode_examples(ctx, r, body, len, &ex, &sv, &in));
    pl_run_options run = pl__rest_run_options(ctx, r);
    pl_classify_response resp;
    pl_status st = pl_serving_classify(sv, ex.signature_name, &run, &in, &resp);
    if (!st) {
        int64_t n = resp.num_examples, k = resp.num_classes;
        pl_json_classification *rows = calloc((size_t)(n > 0 ? n : 1), sizeof *rows);
        pl_json_class *cells = calloc((size_t)(n * k > 0 ? n * k : 1), sizeof *cells);
        if (!rows || !cells || n > INT32_MAX || k > INT32_MAX) {
            st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        } else {
            /* A signature without classes gives "" labels; without scores, 0. */
            const pl_str *labels = resp.classes ? pl_tensor_data(resp.classes) : NULL;
            const float *scores = resp.scores ? pl_tensor_data(resp.scores) : NULL;
            for (int64_t i = 0; i < n; i++) {
                rows[i].num_classes = (int)k;
                rows[i].classes = &cells[i * k];
                for (int64_t j = 0; j < k; j++) {
                    pl_json_class *c = &cells[i * k + j];
                    c->label = labels && labels[i * k + j].data ? labels[i * k + j].data : "";
                    c->label_len = labels ? labels[i * k + j].len : 0;
                    c->score = scores ? scores[i * k + j] : 0.0f;
                }
            }
            st = pl_json_encode_classify((int)n, rows, out);
        }
        free(rows);
        free(cells);
        pl_classify_response_clear(&resp);
    }
    pl_servable_release(sv);
    pl_json_examples_deinit(&ex);
    return st;
}

pl_status pl__rest_regress(pl__rest_ctx *ctx, const pl__rest_route *r, const char *body, size_t len,
                           pl_strbuf *out) {
    pl_json_examples ex;
    pl_servable *sv;
    pl_examples in;
    PL_TRY(decode_examples(ctx, r, body, len, &ex, &sv, &in));
    pl_run_options run = pl__rest_run_options(ctx, r);
    pl_regress_response resp;
    pl_status st = pl_serving_regress(sv, ex.signature_name, &run, &in, &resp);
    if (!st) {
        st = resp.num_examples > INT32_MAX
                 ? pl_error(PL_INVALID_ARGUMENT, "too many examples")
                 : pl_json_encode_regress((int)resp.num_examples, pl_tensor_data(resp.values), out);
        pl_regress_response_clear(&resp);
    }
    pl_servable_release(sv);
    pl_json_examples_deinit(&ex);
    return st;
}
