/* Predict, independent of transport: the signature checks of TensorFlow
 * Serving's predict_util.cc and saved_model/util.cc GetInputValues, with the
 * same codes and texts (spec 1b), then one run of the model. */
#include <stdlib.h>
#include <string.h>

#include "serving/internal.h"
#include "base/clock.h"
#include "base/sort.h"
#include "serving/metrics.h"

pl_status pl_serving_predict_signature(const pl_servable *sv, const char *signature_name,
                                       const pl_signature **out) {
    const char *key = pl_signature_key(signature_name);
    *out = pl_model_find_signature(sv->model, key);
    if (!*out) return pl_error(PL_FAILED_PRECONDITION, "Serving signature key \"%s\" not found.", key);
    return NULL;
}

void pl_predict_response_clear(pl_predict_response *resp) {
    if (!resp) return;
    for (int i = 0; i < resp->num_outputs; i++) pl_tensor_unref(resp->outputs[i]);
    free(resp->aliases);  /* one block with `outputs` */
    memset(resp, 0, sizeof *resp);
}

static int cmp_cstr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Number of distinct aliases: the size of the request's inputs map. */
static pl_status count_unique(const pl_predict_request *req, int *out) {
    *out = req->num_inputs;
    if (req->num_inputs < 2) return NULL;
    const char **sorted = malloc(sizeof *sorted * (size_t)req->num_inputs);
    if (!sorted) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    memcpy(sorted, req->input_aliases, sizeof *sorted * (size_t)req->num_inputs);
    pl_qsort(sorted, (size_t)req->num_inputs, sizeof *sorted, cmp_cstr);
    int n = 1;
    for (int i = 1; i < req->num_inputs; i++) n += strcmp(sorted[i], sorted[i - 1]) != 0;
    free(sorted);
    *out = n;
    return NULL;
}

static pl_status check_method(const pl_serving *s, const pl_signature *sig) {
    if (!s->opt.enable_signature_method_name_check) return NULL;
    const char *m = sig->method_name ? sig->method_name : "";
    if (!strcmp(m, PL_PREDICT_METHOD) || !strcmp(m, PL_CLASSIFY_METHOD) || !strcmp(m, PL_REGRESS_METHOD))
        return NULL;
    return pl_error(PL_INTERNAL,
                    "Expected prediction signature method_name to be one of {" PL_PREDICT_METHOD
                    ", " PL_CLASSIFY_METHOD ", " PL_REGRESS_METHOD "}. Was: %s",
                    m);
}

static pl_status size_mismatch(const pl_signature *sig, const pl_predict_request *req, int unique) {
    const char **sig_names = malloc(sizeof *sig_names * (size_t)(sig->num_inputs + 1));
    const char **extra = malloc(sizeof *extra * (size_t)(req->num_inputs + 1));
    const char **missing = malloc(sizeof *missing * (size_t)(sig->num_inputs + 1));
    if (!sig_names || !extra || !missing) {
        free(sig_names);
        free(extra);
        free(missing);
        return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    }
    for (int i = 0; i < sig->num_inputs; i++) sig_names[i] = sig->inputs[i].alias;
    /* Request aliases not in the signature, and the reverse. */
    int ne = 0, nm = 0;
    for (int i = 0; i < req->num_inputs; i++) {
        bool in_sig = false;
        for (int j = 0; j < sig->num_inputs && !in_sig; j++) in_sig = !strcmp(req->input_aliases[i], sig_names[j]);
        if (!in_sig) extra[ne++] = req->input_aliases[i];
    }
    for (int j = 0; j < sig->num_inputs; j++) {
        bool sent = false;
        for (int i = 0; i < req->num_inputs && !sent; i++) sent = !strcmp(req->input_aliases[i], sig_names[j]);
        if (!sent) missing[nm++] = sig_names[j];
    }
    pl_strbuf b;
    pl_strbuf_init(&b, 0);
    pl_strbuf_printf(&b, "input size does not match signature: %d!=%d len({", unique, sig->num_inputs);
    pl__strbuf_sorted_set(&b, req->input_aliases, req->num_inputs);
    pl_strbuf_puts(&b, "}) != len({");
    pl__strbuf_sorted_set(&b, sig_names, sig->num_inputs);
    pl_strbuf_puts(&b, "}). Sent extra: {");
    pl__strbuf_sorted_set(&b, extra, ne);
    pl_strbuf_puts(&b, "}. Missing but required: {");
    pl__strbuf_sorted_set(&b, missing, nm);
    pl_strbuf_puts(&b, "}.");
    pl_status st = b.failed ? pl_error(PL_INVALID_ARGUMENT, "input size does not match signature")
                            : pl_error(PL_INVALID_ARGUMENT, "%s", pl__strbuf_str(&b));
    pl_strbuf_deinit(&b);
    free(extra);
    free(missing);
    free(sig_names);
    return st;
}

static pl_status missing_input(const pl_tensor_info *in, const pl_predict_request *req) {
    pl_strbuf b;
    pl_strbuf_init(&b, 0);
    pl__strbuf_sorted_set(&b, req->input_aliases, req->num_inputs);
    pl_status st = pl_error(PL_INVALID_ARGUMENT,
                            "Signature input alias: %s(feed name: %s) not found in request and no default "
                            "value provided. Inputs expected to be in the request {%s}, or default input alias "
                            "set: ",
                            in->alias, in->tensor_name, pl__strbuf_str(&b));
    pl_strbuf_deinit(&b);
    return st;
}

/* The last request entry with this alias, or -1. */
static int find_input(const pl_predict_request *req, const char *alias) {
    for (int i = req->num_inputs - 1; i >= 0; i--)
        if (!strcmp(req->input_aliases[i], alias)) return i;
    return -1;
}

static pl_status bad_output_alias(const pl_signature *sig, const char *alias) {
    pl_strbuf b;
    pl_strbuf_init(&b, 0);
    const char **names = malloc(sizeof *names * (size_t)(sig->num_outputs + 1));
    if (names) {
        for (int i = 0; i < sig->num_outputs; i++) names[i] = sig->outputs[i].alias;
        pl__strbuf_sorted_set(&b, names, sig->num_outputs);
    }
    pl_status st = pl_error(PL_INVALID_ARGUMENT,
                            "output tensor alias not found in signature: %s Outputs expected to be in the set {%s}.",
                            alias, pl__strbuf_str(&b));
    pl_strbuf_deinit(&b);
    free(names);
    return st;
}

static const pl_tensor_info *find_output(const pl_signature *sig, const char *alias) {
    for (int i = 0; i < sig->num_outputs; i++)
        if (!strcmp(sig->outputs[i].alias, alias)) return &sig->outputs[i];
    return NULL;
}

/* Fills the fetch list from output_filter (checked) or every output. */
static pl_status plan_outputs(const pl_signature *sig, const pl_predict_request *req, pl_predict_response *resp,
                              const char **fetch_names) {
    int n = req->num_output_filter > 0 ? req->num_output_filter : sig->num_outputs;
    void *block = calloc((size_t)(n ? n : 1), sizeof(char *) + sizeof(pl_tensor *));
    if (!block) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    resp->aliases = block;
    resp->outputs = (pl_tensor **)((char *)block + sizeof(char *) * (size_t)(n ? n : 1));
    for (int i = 0; i < n; i++) {
        const pl_tensor_info *out;
        if (req->num_output_filter > 0) {
            const char *alias = req->output_filter[i];
            out = find_output(sig, alias);
            if (!out) return bad_output_alias(sig, alias);
            for (int j = 0; j < i; j++)
                if (!strcmp(resp->aliases[j], alias))
                    return pl_error(PL_INVALID_ARGUMENT, "duplicate output tensor alias: %s", alias);
        } else {
            out = &sig->outputs[i];
        }
        resp->aliases[i] = out->alias;
        fetch_names[i] = out->tensor_name;
    }
    return NULL;
}

pl_status pl_serving_predict(pl_servable *sv, const pl_signature *sig, const pl_run_options *run,
                             const pl_predict_request *req, pl_predict_response *resp) {
    memset(resp, 0, sizeof *resp);
    PL_TRY(check_method(sv->owner, sig));
    int unique;
    PL_TRY(count_unique(req, &unique));
    /* Signatures carry no defaults here, so every input is required. */
    if (unique != sig->num_inputs) return size_mismatch(sig, req, unique);

    int nin = sig->num_inputs;
    int nout_max = req->num_output_filter > 0 ? req->num_output_filter : sig->num_outputs;
    size_t slots = (size_t)nin + (size_t)nout_max + 1;
    /* feeds | feed_names | fetch_names | owned flags, one allocation. */
    void *block = calloc(slots, sizeof(pl_tensor *) + 2 * sizeof(char *) + 1);
    if (!block) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    pl_tensor **feeds = block;
    const char **feed_names = (const char **)(feeds + slots);
    const char **fetch_names = feed_names + slots;
    bool *owned = (bool *)(fetch_names + slots);

    pl_status st = NULL;
    for (int j = 0; j < nin && !st; j++) {
        const pl_tensor_info *in = &sig->inputs[j];
        int i = find_input(req, in->alias);
        if (i < 0) {
            st = missing_input(in, req);
            break;
        }
        feed_names[j] = in->tensor_name;
        if (req->inputs && req->inputs[i]) {
            feeds[j] = pl_tensor_ref(req->inputs[i]);
            owned[j] = true;
        } else if (req->decode) {
            st = req->decode(req->decode_ctx, i, &feeds[j]);
            owned[j] = !st;
            if (st) break;
        } else {
            st = pl_error(PL_INVALID_ARGUMENT, "tensor parsing error: %s", in->alias);
            break;
        }
        /* Session::Run's feed check (FunctionCallFrame::SetArgs). */
        if (in->dtype != PL_DT_INVALID && feeds[j]->dtype != in->dtype)
            st = pl_error(PL_INVALID_ARGUMENT, "Expects arg[%d] to be %s but %s is provided", j,
                          pl_dtype_string(in->dtype), pl_dtype_string(feeds[j]->dtype));
    }
    if (!st) st = plan_outputs(sig, req, resp, fetch_names);
    if (!st) {
        /* The run takes the feeds: the request's image can be written over or
         * freed as soon as the graph is done with it. */
        pl_run_options taking = run ? *run : (pl_run_options){0};
        taking.take_feeds = true;
        resp->num_outputs = nout_max;
        int64_t start = pl_clock_now_ns();
        st = pl__servable_run(sv, &taking, nin, feed_names, feeds, nout_max, fetch_names, resp->outputs);
        if (st) resp->num_outputs = 0;  /* nothing was returned */
        else pl_metrics_record_runtime_latency(sv->name, "Predict", PL_RUNTIME_TF1, (pl_clock_now_ns() - start) / 1000);
        memset(owned, 0, (size_t)nin);
    }
    for (int j = 0; j < nin; j++)
        if (owned[j]) pl_tensor_unref(feeds[j]);
    free(block);
    if (st) pl_predict_response_clear(resp);
    return st;
}
