/* Reading --input NAME=VALUE: .npy, pictures, or JSON decoded by the same
 * codec the REST API uses, so a JSON value means what it means over REST. */
#include "cli/inputs.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/json.h"
#include "cli/image.h"
#include "cli/show.h"
#include "tensor/npy.h"

int pl_cli_inputs_add(pl_cli_inputs *in, char *arg) {
    char *eq = strchr(arg, '=');
    if (!eq || eq == arg || in->num >= PL_CLI_MAX_INPUTS) return -1;
    *eq = '\0';
    in->names[in->num] = arg;
    in->values[in->num] = eq + 1;
    in->num++;
    return 0;
}

static bool ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcasecmp(s + a - b, suffix);
}

typedef struct one_input {
    const pl_tensor_info *info;
} one_input;

static pl_status lookup_input(void *ctx, const char *signature_name, const pl_tensor_info **inputs, int *n) {
    (void)signature_name;
    *inputs = ((one_input *)ctx)->info;
    *n = 1;
    return NULL;
}

/* A JSON value goes through the REST decoder as {"inputs": {NAME: VALUE}},
 * so its dtype comes from the signature. */
static pl_status json_input(const pl_signature *sig, const char *name, const char *json, pl_tensor **out) {
    const pl_tensor_info *info = NULL;
    for (int i = 0; sig && i < sig->num_inputs && !info; i++)
        if (!strcmp(sig->inputs[i].alias, name)) info = &sig->inputs[i];
    if (!info) return pl_error(PL_INVALID_ARGUMENT, "the signature has no input '%s'", name);
    one_input ctx = {info};
    pl_strbuf body;
    pl_strbuf_init(&body, 0);
    pl_strbuf_puts(&body, "{\"inputs\": {");
    pl_cli_json_string(&body, name);
    pl_strbuf_puts(&body, ": ");
    pl_strbuf_puts(&body, json);
    pl_strbuf_puts(&body, "}}");
    size_t len;
    char *text = pl_strbuf_detach(&body, &len);
    if (!text) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    pl_json_predict req;
    pl_status st = pl_json_decode_predict(text, len, lookup_input, &ctx, &req);
    free(text);
    if (st) return pl_status_prefix(st, "input '%s' is neither a .npy file, a picture nor valid JSON: ", name);
    *out = pl_tensor_ref(req.tensors[0]);
    pl_json_predict_deinit(&req);
    return NULL;
}

static pl_status read_one(const pl_signature *sig, const char *name, const char *value, pl_tensor **out) {
    if (ends_with(value, ".npy")) return pl_npy_read_file(value, out);
    if (ends_with(value, ".jpg") || ends_with(value, ".jpeg") || ends_with(value, ".png")) {
        pl_image img;
        PL_TRY(pl_image_read(value, &img));
        pl_status st = pl_image_to_tensor(&img, out);
        pl_image_free(&img);
        return st;
    }
    return json_input(sig, name, value, out);
}

pl_status pl_cli_inputs_read(pl_cli_inputs *in, const pl_signature *sig) {
    for (int i = 0; i < in->num; i++) PL_TRY(read_one(sig, in->names[i], in->values[i], &in->tensors[i]));
    return NULL;
}

void pl_cli_inputs_deinit(pl_cli_inputs *in) {
    for (int i = 0; i < in->num; i++) {
        pl_tensor_unref(in->tensors[i]);
        in->tensors[i] = NULL;
    }
}
