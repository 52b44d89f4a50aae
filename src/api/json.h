/* Tensor JSON codec: TF Serving's REST bodies for predict, classify and
 * regress, decoded straight into tensors and encoded straight from them, with
 * TF Serving's error texts and output bytes (spec/tfs-api.md 1c; TF Serving
 * util/json_tensor.cc, which parses with rapidjson 1.1.0).
 *
 *     pl_json_predict req;
 *     pl_status st = pl_json_decode_predict(body, len, lookup_inputs, model, &req);
 *     if (st) return reply_error(st);           // pl_json_encode_error()
 *     ... run req.tensors[i] as input req.aliases[i] ...
 *     pl_strbuf out;
 *     pl_strbuf_init(&out, 0);
 *     st = pl_json_encode_predict(req.format, n_out, out_aliases, out_tensors, &out);
 *     pl_json_predict_deinit(&req);
 *
 * Decoding is one pass over the text with no tree of values: numbers go
 * into the tensor buffers as they are read. Bodies must be followed by a NUL
 * byte (body[len] == 0); as in rapidjson, an earlier NUL ends the text. What
 * the decoder allocates is bounded by a small multiple of the body size. */
#ifndef PL_API_JSON_H
#define PL_API_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include "base/status.h"
#include "base/strbuf.h"
#include "runtime/model.h"
#include "tensor/tensor.h"

typedef enum pl_json_format {
    PL_JSON_FORMAT_ROW = 1,      /* "instances" in, "predictions" out */
    PL_JSON_FORMAT_COLUMNAR = 2  /* "inputs" in, "outputs" out */
} pl_json_format;

/* Gives the inputs of a signature ("" names the default one), sorted by alias.
 * The array must stay valid until the decode returns. An error goes to the
 * client as it is (e.g. an unknown signature). */
typedef pl_status pl_json_lookup_fn(void *ctx, const char *signature_name, const pl_tensor_info **inputs,
                                    int *num_inputs);

typedef struct pl_json_predict {
    char *signature_name;   /* as the request gave it, "" when absent */
    pl_json_format format;
    int num_inputs;
    char **aliases;         /* num_inputs input aliases, sorted */
    pl_tensor **tensors;    /* one reference per input */
} pl_json_predict;

/* Decodes a predict request. On success *out owns everything in it
 * (release with pl_json_predict_deinit); on error *out is untouched. */
pl_status pl_json_decode_predict(const char *body, size_t len, pl_json_lookup_fn *lookup, void *ctx,
                                 pl_json_predict *out);
void pl_json_predict_deinit(pl_json_predict *req);

/* Appends the predict response for the given outputs: "predictions" (row)
 * or "outputs" (columnar), pretty-printed as TF Serving's rapidjson
 * PrettyWriter does. Outputs are written in the order given. */
pl_status pl_json_encode_predict(pl_json_format format, int num_outputs, const char *const *aliases,
                                 pl_tensor *const *tensors, pl_strbuf *out);

/* A classify or regress request: each example (and the optional context) as
 * a serialized tensorflow.Example, features in the order the JSON gave them. */
typedef struct pl_json_examples {
    char *signature_name;   /* "" when absent */
    bool has_context;
    pl_str context;         /* serialized Example, when has_context */
    int num_examples;
    pl_str *examples;       /* num_examples serialized Examples */
    char *storage_;         /* holds the serialized bytes */
} pl_json_examples;

/* Decodes a classify or regress request (same body, same rules as
 * pl_json_decode_predict's text). On error *out is untouched. */
pl_status pl_json_decode_examples(const char *body, size_t len, pl_json_examples *out);
void pl_json_examples_deinit(pl_json_examples *req);

typedef struct pl_json_class {
    const char *label;
    size_t label_len;
    float score;
} pl_json_class;

typedef struct pl_json_classification {
    int num_classes;
    const pl_json_class *classes;
} pl_json_classification;

/* {"results": [[["label", score], ...], ...]} */
pl_status pl_json_encode_classify(int num_results, const pl_json_classification *results, pl_strbuf *out);
/* {"results": [value, ...]} */
pl_status pl_json_encode_regress(int num_results, const float *values, pl_strbuf *out);
/* {"error": "<message>"}, as every failed REST call answers. */
void pl_json_encode_error(const char *message, pl_strbuf *out);

#endif
