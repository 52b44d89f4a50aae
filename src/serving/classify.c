/* Classify, Regress and MultiInference, independent of transport: the
 * signature checks and result conversions of TensorFlow Serving's
 * classifier.cc, regressor.cc and multi_inference.cc. tf.Example inputs are fed
 * as one DT_STRING tensor of serialized examples, like util.cc does. */
#include <stdlib.h>
#include <string.h>

#include "serving/internal.h"
#include "base/clock.h"
#include "serving/metrics.h"

#define CLASSIFY_INPUTS "inputs"
#define CLASSIFY_CLASSES "classes"
#define CLASSIFY_SCORES "scores"
#define REGRESS_INPUTS "inputs"
#define REGRESS_OUTPUTS "outputs"

pl_status pl__examples_tensor(const pl_examples *in, pl_tensor **out) {
    *out = NULL;
    if (in->num <= 0) return pl_error(PL_INVALID_ARGUMENT, "Input is empty.");
    pl_tensor *t;
    PL_TRY(pl_tensor_alloc(PL_DT_STRING, 1, &in->num, &t));
    char *tmp = NULL;
    size_t tmp_cap = 0;
    pl_status st = NULL;
    for (int64_t i = 0; i < in->num && !st; i++) {
        const pl_str *e = &in->examples[i];
        if (!in->context) {
            st = pl_tensor_set_string(t, i, e->data, e->len);
            continue;
        }
        /* Concatenated serializations parse as the merged message, so the
         * context's features join every example's. */
        size_t len = in->context->len + e->len;
        if (len < e->len) {
            st = pl_error(PL_INVALID_ARGUMENT, "example too large");
            break;
        }
        if (len > tmp_cap) {
            char *nt = realloc(tmp, len ? len : 1);
            if (!nt) {
                st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
                break;
            }
            tmp = nt;
            tmp_cap = len;
        }
        if (in->context->len) memcpy(tmp, in->context->data, in->context->len);
        if (e->len) memcpy(tmp + in->context->len, e->data, e->len);
        st = pl_tensor_set_string(t, i, tmp, len);
    }
    free(tmp);
    if (st) {
        pl_tensor_unref(t);
        return st;
    }
    *out = t;
    return NULL;
}

void pl_classify_response_clear(pl_classify_response *resp) {
    if (!resp) return;
    pl_tensor_unref(resp->classes);
    pl_tensor_unref(resp->scores);
    memset(resp, 0, sizeof *resp);
}

void pl_regress_response_clear(pl_regress_response *resp) {
    if (!resp) return;
    pl_tensor_unref(resp->values);
    memset(resp, 0, sizeof *resp);
}

void pl_inference_results_clear(pl_inference_result *results, int num_tasks) {
    if (!results) return;
    for (int i = 0; i < num_tasks; i++) {
        pl_classify_response_clear(&results[i].classification);
        pl_regress_response_clear(&results[i].regression);
    }
}

static const pl_tensor_info *find_info(const pl_tensor_info *infos, int n, const char *alias) {
    for (int i = 0; i < n; i++)
        if (!strcmp(infos[i].alias, alias)) return &infos[i];
    return NULL;
}

static pl_status with_signature_text(pl_code code, const char *prefix, const pl_signature *sig) {
    pl_strbuf b;
    pl_strbuf_init(&b, 0);
    pl__strbuf_signature(&b, sig);
    pl_status st = pl_error(code, "%s%s", prefix, pl__strbuf_str(&b));
    pl_strbuf_deinit(&b);
    return st;
}

static const char *method_of(const pl_signature *sig) { return sig->method_name ? sig->method_name : ""; }

/* PreProcessClassification: the input and the classes/scores outputs. */
static pl_status classify_plan(const pl_serving *s, const pl_signature *sig, const char **input,
                               const pl_tensor_info **classes, const pl_tensor_info **scores) {
    if (s->opt.enable_signature_method_name_check && strcmp(method_of(sig), PL_CLASSIFY_METHOD))
        return pl_error(PL_INVALID_ARGUMENT,
                        "Expected classification signature method_name to be " PL_CLASSIFY_METHOD ". Was: %s",
                        method_of(sig));
    if (sig->num_inputs != 1) return pl_error(PL_INVALID_ARGUMENT, "Expected one input Tensor.");
    if (sig->num_outputs != 1 && sig->num_outputs != 2)
        return pl_error(PL_INVALID_ARGUMENT, "Expected one or two output Tensors, found %d", sig->num_outputs);
    const pl_tensor_info *in = find_info(sig->inputs, sig->num_inputs, CLASSIFY_INPUTS);
    if (!in) return with_signature_text(PL_INVALID_ARGUMENT, "No classification inputs found in SignatureDef: ", sig);
    *input = in->tensor_name;
    *classes = find_info(sig->outputs, sig->num_outputs, CLASSIFY_CLASSES);
    *scores = find_info(sig->outputs, sig->num_outputs, CLASSIFY_SCORES);
    if (!*classes && !*scores)
        return with_signature_text(PL_INVALID_ARGUMENT,
                                   "Expected classification signature outputs to contain at least one of \"classes\" "
                                   "or \"scores\". Signature was: ",
                                   sig);
    return NULL;
}

static pl_status regress_plan(const pl_serving *s, const pl_signature *sig, const char **input,
                              const pl_tensor_info **output) {
    if (s->opt.enable_signature_method_name_check && strcmp(method_of(sig), PL_REGRESS_METHOD))
        return pl_error(PL_INVALID_ARGUMENT,
                        "Expected regression signature method_name to be " PL_REGRESS_METHOD ". Was: %s",
                        method_of(sig));
    if (sig->num_inputs != 1) return pl_error(PL_INVALID_ARGUMENT, "Expected one input Tensor.");
    if (sig->num_outputs != 1) return pl_error(PL_INVALID_ARGUMENT, "Expected one output Tensor.");
    const pl_tensor_info *in = find_info(sig->inputs, sig->num_inputs, REGRESS_INPUTS);
    if (!in) return with_signature_text(PL_INVALID_ARGUMENT, "No regression inputs found in SignatureDef: ", sig);
    *input = in->tensor_name;
    *output = find_info(sig->outputs, sig->num_outputs, REGRESS_OUTPUTS);
    if (!*output)
        return with_signature_text(PL_INVALID_ARGUMENT, "No regression outputs found in SignatureDef: ", sig);
    return NULL;
}

static pl_status check_class_tensor(const pl_tensor *t, const char *what, pl_dtype want, int64_t n) {
    char shape[128];
    if (t->rank != 2)
        return pl_error(PL_INVALID_ARGUMENT, "Expected Tensor shape: [batch_size num_classes] but got %s",
                        pl_shape_str(t->rank, t->dims, shape, sizeof shape));
    if (t->dtype != want)
        return pl_error(PL_INVALID_ARGUMENT, "Expected %s Tensor of %s. Got: %s", what, pl_dtype_name(want),
                        pl_dtype_name(t->dtype));
    if (t->dims[0] != n)
        return pl_error(PL_INVALID_ARGUMENT, "Expected %s output batch size of %lld. Got: %lld", what, (long long)n,
                        (long long)t->dims[0]);
    return NULL;
}

/* PostProcessClassificationResult; takes over the references in classes/scores. */
static pl_status classify_result(int64_t n, pl_tensor *classes, pl_tensor *scores, pl_classify_response *resp) {
    pl_status st = NULL;
    if (classes) st = check_class_tensor(classes, "classes", PL_DT_STRING, n);
    if (!st && scores) st = check_class_tensor(scores, "scores", PL_DT_FLOAT, n);
    if (!st && classes && scores && classes->dims[1] != scores->dims[1])
        st = pl_error(PL_INVALID_ARGUMENT, "Tensors class and score should match in dim_size(1). Got %lld vs. %lld",
                      (long long)classes->dims[1], (long long)scores->dims[1]);
    if (st) {
        pl_tensor_unref(classes);
        pl_tensor_unref(scores);
        return st;
    }
    resp->num_examples = n;
    resp->num_classes = classes ? classes->dims[1] : scores ? scores->dims[1] : 0;
    resp->classes = classes;
    resp->scores = scores;
    return NULL;
}

/* PostProcessRegressionResult; takes over the reference in `t`. */
static pl_status regress_result(int64_t n, pl_tensor *t, pl_regress_response *resp) {
    char shape[128];
    pl_status st = NULL;
    if (!(t->rank == 1 || (t->rank == 2 && t->dims[1] == 1)))
        st = pl_error(PL_INVALID_ARGUMENT,
                      "Expected output Tensor shape to be either [batch_size] or [batch_size, 1] but got %s",
                      pl_shape_str(t->rank, t->dims, shape, sizeof shape));
    else if (n != t->dims[0])
        st = pl_error(PL_INVALID_ARGUMENT, "Input batch size did not match output batch size: %lld vs. %lld",
                      (long long)n, (long long)t->dims[0]);
    else if (t->dtype != PL_DT_FLOAT)
        st = pl_error(PL_INVALID_ARGUMENT, "Expected output Tensor of DT_FLOAT.  Got: %s", pl_dtype_name(t->dtype));
    else if (t->count != n)
        st = pl_error(PL_INVALID_ARGUMENT, "Expected output batch size to be %lld.  Got: %lld", (long long)n,
                      (long long)t->count);
    if (st) {
        pl_tensor_unref(t);
        return st;
    }
    resp->num_examples = n;
    resp->values = t;
    return NULL;
}

static const pl_signature *find_sig(const pl_servable *sv, const char *name) {
    return pl_model_find_signature(sv->model, pl_signature_key(name));
}

pl_status pl_serving_classify(pl_servable *sv, const char *signature_name, const pl_run_options *run,
                              const pl_examples *input, pl_classify_response *resp) {
    memset(resp, 0, sizeof *resp);
    const pl_signature *sig = find_sig(sv, signature_name);
    if (!sig)
        return pl_error(PL_INVALID_ARGUMENT, "No signature was found with the name: %s",
                        pl_signature_key(signature_name));
    const char *in_name;
    const pl_tensor_info *classes, *scores;
    PL_TRY(classify_plan(sv->owner, sig, &in_name, &classes, &scores));
    pl_tensor *examples;
    PL_TRY(pl__examples_tensor(input, &examples));
    const char *fetch[2];
    int nf = 0;
    if (classes) fetch[nf++] = classes->tensor_name;
    if (scores) fetch[nf++] = scores->tensor_name;
    pl_tensor *out[2] = {NULL, NULL};
    int64_t start = pl_clock_now_ns();
    pl_status st = pl__servable_run(sv, run, 1, &in_name, &examples, nf, fetch, out);
    pl_tensor_unref(examples);
    if (st) return st;
    pl_metrics_record_runtime_latency(sv->name, "Classify", PL_RUNTIME_TF1, (pl_clock_now_ns() - start) / 1000);
    return classify_result(input->num, classes ? out[0] : NULL, scores ? out[classes ? 1 : 0] : NULL, resp);
}

pl_status pl_serving_regress(pl_servable *sv, const char *signature_name, const pl_run_options *run,
                             const pl_examples *input, pl_regress_response *resp) {
    memset(resp, 0, sizeof *resp);
    const pl_signature *sig = find_sig(sv, signature_name);
    if (!sig)
        return pl_error(PL_INVALID_ARGUMENT, "No signature was found with the name: %s",
                        pl_signature_key(signature_name));
    const char *in_name;
    const pl_tensor_info *output;
    PL_TRY(regress_plan(sv->owner, sig, &in_name, &output));
    pl_tensor *examples;
    PL_TRY(pl__examples_tensor(input, &examples));
    pl_tensor *out = NULL;
    const char *fetch = output->tensor_name;
    int64_t start = pl_clock_now_ns();
    pl_status st = pl__servable_run(sv, run, 1, &in_name, &examples, 1, &fetch, &out);
    pl_tensor_unref(examples);
    if (st) return st;
    pl_metrics_record_runtime_latency(sv->name, "Regress", PL_RUNTIME_TF1, (pl_clock_now_ns() - start) / 1000);
    return regress_result(input->num, out, resp);
}

/* ---- MultiInference ---- */

typedef struct task_plan {
    const pl_signature *sig;
    bool classify;
    const pl_tensor_info *classes, *scores, *output;
} task_plan;

/* Adds `name` to the set `names[0..*n)` unless present; returns its index. */
static int set_add(const char **names, int *n, const char *name) {
    for (int i = 0; i < *n; i++)
        if (!strcmp(names[i], name)) return i;
    names[*n] = name;
    return (*n)++;
}

static int set_find(const char **names, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name)) return i;
    return -1;
}

static pl_status plan_tasks(pl_servable *sv, int num_tasks, const pl_inference_task *tasks, task_plan *plans,
                            const char **inputs, int *num_inputs, const char **fetches, int *num_fetches) {
    const char *model_name = NULL;
    for (int t = 0; t < num_tasks; t++) {
        const pl_inference_task *task = &tasks[t];
        if (!task->model_name || !*task->model_name)
            return pl_error(PL_INVALID_ARGUMENT, "Found ModelSpec with an empty model name.");
        if (!model_name)
            model_name = task->model_name;
        else if (strcmp(model_name, task->model_name))
            return pl_error(PL_INVALID_ARGUMENT,
                            "All ModelSpecs in a MultiInferenceRequest must access the same model name.");
        const char *key = pl_signature_key(task->signature_name);
        for (int u = 0; u < t; u++)
            if (!strcmp(pl_signature_key(tasks[u].signature_name), key))
                return pl_error(PL_INVALID_ARGUMENT, "Duplicate evaluation of signature: %s", key);
        task_plan *p = &plans[t];
        p->sig = find_sig(sv, key);
        if (!p->sig) return pl_error(PL_INVALID_ARGUMENT, "Requested signature not found in model graph: %s", key);
        const char *method = task->method_name ? task->method_name : "";
        const char *in;
        if (!strcmp(method, PL_CLASSIFY_METHOD)) {
            p->classify = true;
            PL_TRY(classify_plan(sv->owner, p->sig, &in, &p->classes, &p->scores));
            if (p->classes) set_add(fetches, num_fetches, p->classes->tensor_name);
            if (p->scores) set_add(fetches, num_fetches, p->scores->tensor_name);
        } else if (!strcmp(method, PL_REGRESS_METHOD)) {
            PL_TRY(regress_plan(sv->owner, p->sig, &in, &p->output));
            set_add(fetches, num_fetches, p->output->tensor_name);
        } else {
            return pl_error(PL_UNIMPLEMENTED, "Unsupported signature method_name: %s", method);
        }
        set_add(inputs, num_inputs, in);
    }
    return NULL;
}

pl_status pl_serving_multi_inference(pl_servable *sv, const pl_run_options *run, int num_tasks,
                                     const pl_inference_task *tasks, const pl_examples *input,
                                     pl_inference_result *results) {
    memset(results, 0, sizeof *results * (size_t)(num_tasks > 0 ? num_tasks : 0));
    if (num_tasks <= 0) return NULL;
    size_t n = (size_t)num_tasks;
    /* plans | input names | fetch names (<= 2 per task) | fetched tensors | feeds */
    task_plan *plans = calloc(n, sizeof *plans);
    const char **names = calloc(3 * n, sizeof *names);
    pl_tensor **tensors = calloc(3 * n, sizeof *tensors);
    pl_status st = NULL;
    if (!plans || !names || !tensors) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    const char **inputs = names, **fetches = names + n;
    pl_tensor **fetched = tensors, **feeds = tensors + 2 * n;
    int num_inputs = 0, num_fetches = 0;
    if (!st) st = plan_tasks(sv, num_tasks, tasks, plans, inputs, &num_inputs, fetches, &num_fetches);
    pl_tensor *examples = NULL;
    if (!st) st = pl__examples_tensor(input, &examples);
    if (!st) {
        for (int i = 0; i < num_inputs; i++) feeds[i] = examples;
        st = pl__servable_run(sv, run, num_inputs, inputs, feeds, num_fetches, fetches, fetched);
        if (st) num_fetches = 0;
        else pl_metrics_record_example_count(tasks[0].model_name, input->num);
    }
    pl_tensor_unref(examples);
    for (int t = 0; !st && t < num_tasks; t++) {
        task_plan *p = &plans[t];
        results[t].is_classification = p->classify;
        if (p->classify) {
            pl_tensor *c = p->classes ? pl_tensor_ref(fetched[set_find(fetches, num_fetches, p->classes->tensor_name)])
                                      : NULL;
            pl_tensor *s = p->scores ? pl_tensor_ref(fetched[set_find(fetches, num_fetches, p->scores->tensor_name)])
                                     : NULL;
            st = classify_result(input->num, c, s, &results[t].classification);
        } else {
            pl_tensor *v = pl_tensor_ref(fetched[set_find(fetches, num_fetches, p->output->tensor_name)]);
            st = regress_result(input->num, v, &results[t].regression);
        }
    }
    for (int i = 0; i < num_fetches; i++) pl_tensor_unref(fetched[i]);
    if (st) pl_inference_results_clear(results, num_tasks);
    free(plans);
    free(names);
    free(tensors);
    return st;
}

pl_status pl_serving_check_metadata_fields(int num, const char *const *fields) {
    if (num <= 0)
        return pl_error(PL_INVALID_ARGUMENT, "GetModelMetadataRequest must specify at least one metadata_field");
    for (int i = 0; i < num; i++)
        if (strcmp(fields[i], "signature_def"))
            return pl_error(PL_INVALID_ARGUMENT, "Metadata field %s is not supported", fields[i]);
    return NULL;
}
