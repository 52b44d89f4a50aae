/* Text and JSON renderings of shapes and signatures shared by metadata and inspect. */
#include "cli/show.h"

#include <inttypes.h>

void pl_cli_shape_text(int rank, const int64_t *dims, char *buf, size_t size) {
    if (rank < 0) {
        snprintf(buf, size, "unknown rank");
        return;
    }
    size_t n = (size_t)snprintf(buf, size, "(");
    for (int i = 0; i < rank && n < size; i++) n += (size_t)snprintf(buf + n, size - n, "%s%" PRId64, i ? ", " : "", dims[i]);
    if (n < size) snprintf(buf + n, size - n, rank == 1 ? ",)" : ")");
}

void pl_cli_print_tensor(FILE *f, const pl_tensor_info *t) {
    char shape[160];
    pl_cli_shape_text(t->rank, t->dims, shape, sizeof shape);
    fprintf(f, "%-14s %-10s %-18s %s\n", t->alias, pl_dtype_name(t->dtype), shape, t->tensor_name);
}

static void print_infos(FILE *f, const char *title, int n, const pl_tensor_info *infos, int indent) {
    fprintf(f, "%*s%s:\n", indent, "", title);
    for (int i = 0; i < n; i++) {
        fprintf(f, "%*s", indent + 2, "");
        pl_cli_print_tensor(f, &infos[i]);
    }
    if (!n) fprintf(f, "%*s(none)\n", indent + 2, "");
}

void pl_cli_print_signature(FILE *f, const pl_signature *sig, int indent) {
    fprintf(f, "%*ssignature '%s' (%s)\n", indent, "", sig->key, sig->method_name ? sig->method_name : "");
    print_infos(f, "inputs", sig->num_inputs, sig->inputs, indent + 2);
    print_infos(f, "outputs", sig->num_outputs, sig->outputs, indent + 2);
}

void pl_cli_json_string(pl_strbuf *b, const char *s) {
    pl_strbuf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') {
            pl_strbuf_putc(b, '\\');
            pl_strbuf_putc(b, (char)*p);
        } else if (*p < 0x20) {
            pl_strbuf_printf(b, "\\u%04x", *p);
        } else {
            pl_strbuf_putc(b, (char)*p);
        }
    }
    pl_strbuf_putc(b, '"');
}

static void json_infos(pl_strbuf *b, int n, const pl_tensor_info *infos) {
    pl_strbuf_putc(b, '{');
    for (int i = 0; i < n; i++) {
        const pl_tensor_info *t = &infos[i];
        if (i) pl_strbuf_puts(b, ", ");
        pl_cli_json_string(b, t->alias);
        pl_strbuf_printf(b, ": {\"dtype\": \"%s\", \"shape\": ", pl_dtype_name(t->dtype));
        if (t->rank < 0) {
            pl_strbuf_puts(b, "null");
        } else {
            pl_strbuf_putc(b, '[');
            for (int d = 0; d < t->rank; d++) pl_strbuf_printf(b, "%s%" PRId64, d ? ", " : "", t->dims[d]);
            pl_strbuf_putc(b, ']');
        }
        pl_strbuf_puts(b, ", \"name\": ");
        pl_cli_json_string(b, t->tensor_name);
        pl_strbuf_putc(b, '}');
    }
    pl_strbuf_putc(b, '}');
}

void pl_cli_json_signature(pl_strbuf *b, const pl_signature *sig) {
    pl_strbuf_puts(b, "{\"method_name\": ");
    pl_cli_json_string(b, sig->method_name ? sig->method_name : "");
    pl_strbuf_puts(b, ", \"inputs\": ");
    json_infos(b, sig->num_inputs, sig->inputs);
    pl_strbuf_puts(b, ", \"outputs\": ");
    json_infos(b, sig->num_outputs, sig->outputs);
    pl_strbuf_putc(b, '}');
}
