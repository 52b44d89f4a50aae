/* Drives the tensor JSON codec from the command line for the Python tests.
 *
 *   json_codec predict [--row|--columnar] ALIAS:DTYPE... < body
 *       decodes a predict request for a signature with those inputs (the
 *       default signature, also reachable as "serving_default"), then encodes
 *       the decoded tensors back as the response in the format given (or the
 *       request's), as if the model were the identity. Prints the response,
 *       or "ERROR <CODE>" and the message on the next line.
 *   json_codec numbers float|double < lines
 *       parses each line as a JSON number (with both the full and the fast
 *       parser, which must agree) and prints the stored value's bits in hex
 *       and its response text.
 *   json_codec examples < body
 *       decodes a classify/regress body and prints each serialized Example
 *       in hex, context first (or "-" when there is none). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/json.h"
#include "api/json_internal.h"

static char *read_all(FILE *f, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    for (;;) {
        if (n == cap) buf = realloc(buf, (cap *= 2) + 1);
        size_t got = fread(buf + n, 1, cap - n, f);
        if (!got) break;
        n += got;
    }
    buf[n] = 0;
    *len = n;
    return buf;
}

static pl_dtype parse_dtype(const char *s) {
    for (int d = 1; d < PL_DT_COUNT; d++)
        if (!strcmp(pl_dtype_string((pl_dtype)d), s)) return (pl_dtype)d;
    fprintf(stderr, "unknown dtype %s\n", s);
    exit(2);
}

typedef struct sig {
    pl_tensor_info *inputs;
    int n;
} sig;

static pl_status lookup(void *ctx, const char *name, const pl_tensor_info **inputs, int *n) {
    sig *s = ctx;
    if (*name && strcmp(name, "serving_default"))
        return pl_error(PL_INVALID_ARGUMENT, "Serving signature name: \"%s\" not found in signature def", name);
    *inputs = s->inputs;
    *n = s->n;
    return NULL;
}

static int print_error(pl_status st) {
    printf("ERROR %s\n%s\n", pl_code_name(pl_status_code(st)), pl_status_message(st));
    pl_status_free(st);
    return 0;
}

static int cmp_info(const void *a, const void *b) {
    return strcmp(((const pl_tensor_info *)a)->alias, ((const pl_tensor_info *)b)->alias);
}

static int cmd_predict(int argc, char **argv) {
    int format = 0;
    sig s = {calloc((size_t)argc + 1, sizeof(pl_tensor_info)), 0};
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--row")) {
            format = PL_JSON_FORMAT_ROW;
            continue;
        }
        if (!strcmp(argv[i], "--columnar")) {
            format = PL_JSON_FORMAT_COLUMNAR;
            continue;
        }
        char *colon = strrchr(argv[i], ':');
        if (!colon) return 2;
        *colon = 0;
        s.inputs[s.n].alias = argv[i];
        s.inputs[s.n].tensor_name = argv[i];
        s.inputs[s.n].dtype = parse_dtype(colon + 1);
        s.inputs[s.n].rank = -1;
        s.n++;
    }
    qsort(s.inputs, (size_t)s.n, sizeof *s.inputs, cmp_info);
    size_t len;
    char *body = read_all(stdin, &len);
    pl_json_predict req;
    pl_status st = pl_json_decode_predict(body, len, lookup, &s, &req);
    if (st) return print_error(st);
    pl_strbuf out;
    pl_strbuf_init(&out, 0);
    st = pl_json_encode_predict(format ? (pl_json_format)format : req.format, req.num_inputs,
                                (const char *const *)req.aliases, req.tensors, &out);
    if (st) {
        print_error(st);
    } else {
        fwrite(out.data, 1, out.len, stdout);
    }
    pl_strbuf_deinit(&out);
    pl_json_predict_deinit(&req);
    free(body);
    free(s.inputs);
    return 0;
}

static int cmd_numbers(const char *type) {
    bool is_float = !strcmp(type, "float");
    char line[4096];
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\n")] = 0;
        pl__json_cur c = {.p = line, .base = line, .end = line + strlen(line), .err = PL__JSON_ERR_NONE};
        pl__json_num n;
        if (!pl__json_parse_number(&c, &n)) {
            pl_status st = pl__json_syntax_status(&c);
            printf("ERROR %s\n", pl_status_message(st));
            pl_status_free(st);
            continue;
        }
        /* The fast path the decoder takes for list elements must agree. */
        double fast;
        const char *fast_end = pl__json_fast_double(line, line + strlen(line), &fast);
        if (fast_end && (memcmp(&fast, &n.d, sizeof fast) != 0 || fast_end != c.p)) {
            printf("ERROR fast path gives %a for %a\n", fast, n.d);
            continue;
        }
        char buf[PL__JSON_NUM_MAX + 1];
        if (is_float) {
            float f = (float)n.d;
            uint32_t bits;
            memcpy(&bits, &f, 4);
            int k = pl__json_format_float(f, buf);
            buf[k] = 0;
            printf("%08x %s\n", bits, buf);
        } else {
            uint64_t bits;
            memcpy(&bits, &n.d, 8);
            int k = pl__json_format_double(n.d, buf);
            buf[k] = 0;
            printf("%016llx %s\n", (unsigned long long)bits, buf);
        }
    }
    return 0;
}

static void print_hex(pl_str s) {
    for (size_t i = 0; i < s.len; i++) printf("%02x", (unsigned char)s.data[i]);
    printf("\n");
}

static int cmd_examples(void) {
    size_t len;
    char *body = read_all(stdin, &len);
    pl_json_examples ex;
    pl_status st = pl_json_decode_examples(body, len, &ex);
    free(body);
    if (st) return print_error(st);
    printf("signature %s\n", ex.signature_name);
    if (ex.has_context) {
        print_hex(ex.context);
    } else {
        printf("-\n");
    }
    for (int i = 0; i < ex.num_examples; i++) print_hex(ex.examples[i]);
    pl_json_examples_deinit(&ex);
    return 0;
}

int main(int argc, char **argv) {
    if (argc >= 2 && !strcmp(argv[1], "predict")) return cmd_predict(argc - 2, argv + 2);
    if (argc == 3 && !strcmp(argv[1], "numbers")) return cmd_numbers(argv[2]);
    if (argc == 2 && !strcmp(argv[1], "examples")) return cmd_examples();
    fprintf(stderr, "usage: json_codec predict [--row|--columnar] ALIAS:DTYPE... | numbers float|double | examples\n");
    return 2;
}
