/* Prints every tensor of a checkpoint bundle as one JSON object per line:
 * {"key": ..., "dtype": ..., "shape": [...], "values": [...]} or
 * {"key": ..., "error": "<CODE>: <message>"}; an open failure prints
 * {"open_error": ...} and exits 1. Used by the integration tests. */
#include <stdio.h>
#include <string.h>

#include "runtime/bundle.h"

static void print_json_string(const char *s, size_t n) {
    putchar('"');
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20 || c >= 0x7f) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

static void print_status(const char *field, pl_status st) {
    char buf[64];
    snprintf(buf, sizeof buf, "%s: ", pl_code_name(pl_status_code(st)));
    printf("\"%s\": \"%s", field, buf);
    const char *m = pl_status_message(st);
    /* Reuse the string printer without its quotes. */
    for (; *m; m++) {
        unsigned char c = (unsigned char)*m;
        if (c == '"' || c == '\\') printf("\\%c", c);
        else if (c < 0x20 || c >= 0x7f) printf("\\u%04x", c);
        else putchar(c);
    }
    putchar('"');
}

static void print_values(const pl_tensor *t) {
    putchar('[');
    for (int64_t i = 0; i < t->count; i++) {
        if (i) putchar(',');
        switch (t->dtype) {
        case PL_DT_STRING: {
            const pl_str *s = &((const pl_str *)t->data)[i];
            print_json_string(s->data, s->len);
            break;
        }
        case PL_DT_FLOAT: case PL_DT_DOUBLE: printf("%.9g", pl_tensor_get_f64(t, i)); break;
        case PL_DT_HALF: printf("%.9g", pl_half_to_float(((const uint16_t *)t->data)[i])); break;
        case PL_DT_BFLOAT16: printf("%.9g", pl_bfloat16_to_float(((const uint16_t *)t->data)[i])); break;
        case PL_DT_UINT64: printf("%llu", (unsigned long long)((const uint64_t *)t->data)[i]); break;
        default: printf("%lld", (long long)pl_tensor_get_i64(t, i)); break;
        }
    }
    putchar(']');
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s <bundle prefix>\n", argv[0]);
        return 2;
    }
    pl_bundle *b;
    pl_status st = pl_bundle_open(argv[1], &b);
    if (st) {
        putchar('{');
        print_status("open_error", st);
        printf("}\n");
        pl_status_free(st);
        return 1;
    }
    for (int i = 0; i < pl_bundle_num_entries(b); i++) {
        const pl_bundle_entry *e = pl_bundle_entry_at(b, i);
        printf("{\"key\": ");
        print_json_string(e->key, strlen(e->key));
        printf(", \"dtype\": \"%s\", \"shape\": [", pl_dtype_name(e->dtype));
        for (int d = 0; d < e->rank; d++) printf(d ? ",%lld" : "%lld", (long long)e->dims[d]);
        printf("], ");
        pl_tensor *t;
        st = pl_bundle_read_entry(b, e, &t);
        if (st) {
            print_status("error", st);
            pl_status_free(st);
        } else {
            printf("\"values\": ");
            print_values(t);
            pl_tensor_unref(t);
        }
        printf("}\n");
    }
    pl_bundle_free(b);
    return 0;
}
