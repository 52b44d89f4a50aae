/* PredictionService.Classify, Regress and MultiInference over gRPC. The
 * tf.Example inputs are split out of the request bytes without being decoded
 * and fed as serialized strings, as TensorFlow Serving does (spec 1b). */
#include <string.h>

#include "api/grpc_internal.h"
#include "tensorflow_serving/apis/classification.pb-c.h"
#include "tensorflow_serving/apis/inference.pb-c.h"
#include "tensorflow_serving/apis/regression.pb-c.h"

static pl_status oom(void) { return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory"); }

/* Classify and Regress take the same request (a model spec and an Input of
 * tf.Examples): splits it and finds the servable the spec names, which the
 * caller releases. */
static pl_status open_request(pl__grpc_call_ctx *ctx, const uint8_t *data, size_t len, pl__wire_request *w,
                              pl_model_spec *spec, pl_servable **sv) {
    PL_TRY(pl__wire_scan_request(ctx->arena, data, len, false, w));
    Tensorflow__Serving__ModelSpec *pspec = NULL;
    if (w->has_model_spec) {
        PL_TRY(pl__grpc_unpack(ctx, &tensorflow__serving__model_spec__descriptor, w->model_spec, w->model_spec_len,
                               (ProtobufCMessage **)&pspec));
        ctx->model_name = pspec->name;
    }
    PL_TRY(pl__grpc_spec_from_proto(pspec, spec));
    return pl_serving_get_servable(ctx->serving, spec, sv);
}

static pl_examples examples_of(const pl__wire_request *w) {
    return (pl_examples){.num = w->num_examples, .examples = w->examples, .context = w->has_context ? &w->context : NULL};
}

static Tensorflow__Serving__ClassificationResult *classification_result(pl_arena *a, const pl_classify_response *c) {
    Tensorflow__Serving__ClassificationResult *r = pl_arena_alloc(a, sizeof *r);
    if (!r) return NULL;
    tensorflow__serving__classification_result__init(r);
    int64_t n = c->num_examples, k = c->num_classes;
    r->n_classifications = (size_t)n;
    r->classifications = pl_arena_alloc(a, sizeof *r->classifications * (size_t)(n + 1));
    Tensorflow__Serving__Classifications *rows = pl_arena_alloc(a, sizeof *rows * (size_t)(n + 1));
    Tensorflow__Serving__Class *cells = pl_arena_alloc(a, sizeof *cells * (size_t)(n * k + 1));
    Tensorflow__Serving__Class **ptrs = pl_arena_alloc(a, sizeof *ptrs * (size_t)(n * k + 1));
    if (!r->classifications || !rows || !cells || !ptrs) return NULL;
    const pl_str *labels = c->classes ? pl_tensor_data(c->classes) : NULL;
    const float *scores = c->scores ? pl_tensor_data(c->scores) : NULL;
    for (int64_t i = 0; i < n; i++) {
        Tensorflow__Serving__Classifications *row = &rows[i];
        tensorflow__serving__classifications__init(row);
        row->n_classes = (size_t)k;
        row->classes = &ptrs[i * k];
        for (int64_t j = 0; j < k; j++) {
            Tensorflow__Serving__Class *cl = &cells[i * k + j];
            tensorflow__serving__class__init(cl);
            if (labels) cl->label = labels[i * k + j].data ? labels[i * k + j].data : "";
            if (scores) cl->score = scores[i * k + j];
            row->classes[j] = cl;
        }
        r->classifications[i] = row;
    }
    return r;
}

static Tensorflow__Serving__RegressionResult *regression_result(pl_arena *a, const pl_regress_response *g) {
    Tensorflow__Serving__RegressionResult *r = pl_arena_alloc(a, sizeof *r);
    if (!r) return NULL;
    tensorflow__serving__regression_result__init(r);
    int64_t n = g->num_examples;
    r->n_regressions = (size_t)n;
    r->regressions = pl_arena_alloc(a, sizeof *r->regressions * (size_t)(n + 1));
    Tensorflow__Serving__Regression *cells = pl_arena_alloc(a, sizeof *cells * (size_t)(n + 1));
    if (!r->regressions || !cells) return NULL;
    const float *v = pl_tensor_data(g->values);
    for (int64_t i = 0; i < n; i++) {
        tensorflow__serving__regression__init(&cells[i]);
        cells[i].value = v[i];
        r->regressions[i] = &cells[i];
    }
    return r;
}

pl_status pl__grpc_classify(pl__grpc_call_ctx *ctx, const uint8_t *data, size_t len, grpc_slice *resp) {
    pl__wire_request w;
    pl_model_spec spec;
    pl_servable *sv;
    PL_TRY(open_request(ctx, data, len, &w, &spec, &sv));
    pl_examples in = examples_of(&w);
    pl_classify_response out;
    pl_status st = pl_serving_classify(sv, spec.signature_name, &ctx->run, &in, &out);
    if (!st) {
        Tensorflow__Serving__ClassificationResponse r = TENSORFLOW__SERVING__CLASSIFICATION_RESPONSE__INIT;
        r.model_spec = pl__grpc_spec_to_proto(ctx, spec.name, spec.signature_name, pl_servable_version(sv));
        r.result = classification_result(ctx->arena, &out);
        st = r.model_spec && r.result ? pl__grpc_pack(&r.base, resp) : oom();
        pl_classify_response_clear(&out);
    }
    pl_servable_release(sv);
    return st;
}

pl_status pl__grpc_regress(pl__grpc_call_ctx *ctx, const uint8_t *data, size_t len, grpc_slice *resp) {
    pl__wire_request w;
    pl_model_spec spec;
    pl_servable *sv;
    PL_TRY(open_request(ctx, data, len, &w, &spec, &sv));
    pl_examples in = examples_of(&w);
    pl_regress_response out;
    pl_status st = pl_serving_regress(sv, spec.signature_name, &ctx->run, &in, &out);
    if (!st) {
        Tensorflow__Serving__RegressionResponse r = TENSORFLOW__SERVING__REGRESSION_RESPONSE__INIT;
        r.model_spec = pl__grpc_spec_to_proto(ctx, spec.name, spec.signature_name, pl_servable_version(sv));
        r.result = regression_result(ctx->arena, &out);
        st = r.model_spec && r.result ? pl__grpc_pack(&r.base, resp) : oom();
        pl_regress_response_clear(&out);
    }
    pl_servable_release(sv);
    return st;
}

pl_status pl__grpc_multi_inference(pl__grpc_call_ctx *ctx, const uint8_t *data, size_t len, grpc_slice *resp) {
    pl__wire_request w;
    PL_TRY(pl__wire_scan_request(ctx->arena, data, len, true, &w));
    int n = w.num_tasks;
    Tensorflow__Serving__InferenceTask **tasks = pl_arena_alloc(ctx->arena, sizeof *tasks * (size_t)(n + 1));
    pl_inference_task *plain = pl_arena_alloc(ctx->arena, sizeof *plain * (size_t)(n + 1));
    pl_inference_result *results = pl_arena_alloc(ctx->arena, sizeof *results * (size_t)(n + 1));
    if (!tasks || !plain || !results) return oom();
    for (int i = 0; i < n; i++) {
        PL_TRY(pl__grpc_unpack(ctx, &tensorflow__serving__inference_task__descriptor,
                               (const uint8_t *)w.tasks[i].data, w.tasks[i].len, (ProtobufCMessage **)&tasks[i]));
        const Tensorflow__Serving__ModelSpec *ms = tasks[i]->model_spec;
        plain[i] = (pl_inference_task){
            .model_name = ms ? ms->name : "",
            .signature_name = ms ? ms->signature_name : "",
            .method_name = tasks[i]->method_name,
        };
    }
    /* The servable comes from the first task's spec (multi_inference_helper.cc);
     * without tasks an empty spec fails on its missing name. */
    pl_model_spec spec = {.name = ""};
    if (n > 0 && tasks[0]->model_spec) PL_TRY(pl__grpc_spec_from_proto(tasks[0]->model_spec, &spec));
    pl_servable *sv;
    PL_TRY(pl_serving_get_servable(ctx->serving, &spec, &sv));
    pl_examples in = examples_of(&w);
    pl_status st = pl_serving_multi_inference(sv, &ctx->run, n, plain, &in, results);
    if (!st) {
        Tensorflow__Serving__MultiInferenceResponse r = TENSORFLOW__SERVING__MULTI_INFERENCE_RESPONSE__INIT;
        r.n_results = (size_t)n;
        r.results = pl_arena_alloc(ctx->arena, sizeof *r.results * (size_t)(n + 1));
        if (!r.results) st = oom();
        for (int i = 0; !st && i < n; i++) {
            Tensorflow__Serving__InferenceResult *ir = pl_arena_alloc(ctx->arena, sizeof *ir);
            if (!ir) {
                st = oom();
                break;
            }
            tensorflow__serving__inference_result__init(ir);
            ir->model_spec = pl__grpc_spec_to_proto(ctx, plain[i].model_name, plain[i].signature_name,
                                                    pl_servable_version(sv));
            if (results[i].is_classification) {
                ir->result_case = TENSORFLOW__SERVING__INFERENCE_RESULT__RESULT_CLASSIFICATION_RESULT;
                ir->classification_result = classification_result(ctx->arena, &results[i].classification);
                if (!ir->classification_result) st = oom();
            } else {
                ir->result_case = TENSORFLOW__SERVING__INFERENCE_RESULT__RESULT_REGRESSION_RESULT;
                ir->regression_result = regression_result(ctx->arena, &results[i].regression);
                if (!ir->regression_result) st = oom();
            }
            if (!ir->model_spec) st = oom();
            r.results[i] = ir;
        }
        if (!st) st = pl__grpc_pack(&r.base, resp);
        pl_inference_results_clear(results, n);
    }
    pl_servable_release(sv);
    return st;
}
