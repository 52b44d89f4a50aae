/* Predict, classify, regress and error responses, written straight from the
 * tensors with the bytes TF Serving's rapidjson PrettyWriter produces
 * (spec/tfs-api.md 1c, "Predict response JSON"; util/json_tensor.cc):
 * 4-space indents; in the row format each instance is written with
 * kFormatSingleLineArray, so "predictions": [[1.0, 2.0], [3.0, 4.0]
 * ends with a line break before the closing bracket; in the columnar format
 * every list element gets its own line. {"b64": ...} objects are multi-line
 * even inside single-line lists, as PrettyWriter writes objects. */
#include <stdlib.h>
#include <string.h>

#include "api/json.h"
#include "api/json_internal.h"
#include "base/base64.h"

/* rapidjson's Writer::WriteString escape table: 'u' means \u00XX. */
static const char escape_table[256] = {
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'b', 't', 'n', 'u', 'f', 'r', 'u', 'u',
    'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u', 'u',
    0,   0,   '"', 0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,
    0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   0,   '\\', 0,  0,   0,
};

void pl__json_write_string(pl_strbuf *out, const char *s, size_t n) {
    static const char hex[] = "0123456789ABCDEF";
    /* Worst case six bytes per input byte. */
    char *p = pl_strbuf_reserve(out, 2 + 6 * n);
    if (!p) return;
    char *start = p;
    *p++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char e = escape_table[ch];
        if (!e) {
            *p++ = (char)ch;
        } else {
            *p++ = '\\';
            *p++ = e;
            if (e == 'u') {
                *p++ = '0';
                *p++ = '0';
                *p++ = hex[ch >> 4];
                *p++ = hex[ch & 15];
            }
        }
    }
    *p++ = '"';
    pl_strbuf_commit(out, (size_t)(p - start));
}

/* PrettyWriter's state: the open containers and the format option. */
#define MAX_LEVELS (PL_MAX_RANK + 8)
typedef struct writer {
    pl_strbuf *out;
    struct {
        bool in_array;
        int64_t count;
    } level[MAX_LEVELS];
    int depth;
    bool single_line;  /* kFormatSingleLineArray */
} writer;

static void indent(writer *w) {
    size_t n = (size_t)w->depth * 4;
    char *p = pl_strbuf_reserve(w->out, n);
    if (!p) return;
    memset(p, ' ', n);
    pl_strbuf_commit(w->out, n);
}

/* PrettyPrefix: what goes before a value, key or container. */
static void prefix(writer *w) {
    if (!w->depth) return;
    int64_t *count = &w->level[w->depth - 1].count;
    if (w->level[w->depth - 1].in_array) {
        if (*count > 0) pl_strbuf_puts(w->out, w->single_line ? ", " : ",");
        if (!w->single_line) {
            pl_strbuf_putc(w->out, '\n');
            indent(w);
        }
    } else {
        if (*count > 0) {
            pl_strbuf_puts(w->out, *count % 2 == 0 ? ",\n" : ": ");
        } else {
            pl_strbuf_putc(w->out, '\n');
        }
        if (*count % 2 == 0) indent(w);
    }
    (*count)++;
}

static void open_container(writer *w, bool array) {
    prefix(w);
    w->level[w->depth].in_array = array;
    w->level[w->depth].count = 0;
    w->depth++;
    pl_strbuf_putc(w->out, array ? '[' : '{');
}

static void close_container(writer *w) {
    bool array = w->level[w->depth - 1].in_array;
    bool empty = w->level[w->depth - 1].count == 0;
    w->depth--;
    if (!empty && !(array && w->single_line)) {
        pl_strbuf_putc(w->out, '\n');
        indent(w);
    }
    pl_strbuf_putc(w->out, array ? ']' : '}');
}

static void key(writer *w, const char *k) {
    prefix(w);
    pl__json_write_string(w->out, k, strlen(k));
}

static void string_value(writer *w, const char *s, size_t n, bool as_bytes) {
    if (!as_bytes) {
        prefix(w);
        pl__json_write_string(w->out, s, n);
        return;
    }
    open_container(w, false);
    key(w, "b64");
    prefix(w);
    size_t len = pl_base64_encoded_nbytes(n);
    char *p = pl_strbuf_reserve(w->out, len + 2);
    if (p) {
        p[0] = '"';
        pl_base64_encode(s, n, p + 1);
        p[len + 1] = '"';
        pl_strbuf_commit(w->out, len + 2);
    }
    close_container(w);
}

static bool dtype_writable(pl_dtype dt) {
    switch (dt) {
    case PL_DT_FLOAT:
    case PL_DT_DOUBLE:
    case PL_DT_INT32:
    case PL_DT_INT16:
    case PL_DT_INT8:
    case PL_DT_UINT8:
    case PL_DT_STRING:
    case PL_DT_INT64:
    case PL_DT_BOOL:
    case PL_DT_UINT32:
    case PL_DT_UINT64: return true;
    default: return false;
    }
}

/* Formats element i of a numeric or bool tensor. */
static int format_scalar(const pl_tensor *t, int64_t i, char *buf) {
    const void *d = t->data;
    switch (t->dtype) {
    case PL_DT_FLOAT: return pl__json_format_float(((const float *)d)[i], buf);
    case PL_DT_DOUBLE: return pl__json_format_double(((const double *)d)[i], buf);
    case PL_DT_INT32: return pl__json_format_i64(((const int32_t *)d)[i], buf);
    case PL_DT_INT16: return pl__json_format_i64(((const int16_t *)d)[i], buf);
    case PL_DT_INT8: return pl__json_format_i64(((const int8_t *)d)[i], buf);
    case PL_DT_UINT8: return pl__json_format_u64(((const uint8_t *)d)[i], buf);
    case PL_DT_INT64: return pl__json_format_i64(((const int64_t *)d)[i], buf);
    case PL_DT_UINT32: return pl__json_format_u64(((const uint32_t *)d)[i], buf);
    case PL_DT_UINT64: return pl__json_format_u64(((const uint64_t *)d)[i], buf);
    default:
        if (((const uint8_t *)d)[i]) {
            memcpy(buf, "true", 4);
            return 4;
        }
        memcpy(buf, "false", 5);
        return 5;
    }
}

static void scalar(writer *w, const pl_tensor *t, int64_t i, bool as_bytes) {
    if (t->dtype == PL_DT_STRING) {
        const pl_str *s = &((const pl_str *)t->data)[i];
        string_value(w, s->data, s->len, as_bytes);
        return;
    }
    prefix(w);
    char buf[PL__JSON_NUM_MAX];
    pl_strbuf_append(w->out, buf, (size_t)format_scalar(t, i, buf));
}

/* The innermost list of n numbers from element `first`: the separators are
 * the same for every element after the first, so they are written directly. */
static void number_run(writer *w, const pl_tensor *t, int64_t first, int64_t n) {
    if (!n) return;
    scalar(w, t, first, false);
    char sep[4 + 4 * MAX_LEVELS];
    size_t sep_len;
    if (w->single_line) {
        memcpy(sep, ", ", 2);
        sep_len = 2;
    } else {
        sep[0] = ',';
        sep[1] = '\n';
        sep_len = 2 + (size_t)w->depth * 4;
        memset(sep + 2, ' ', sep_len - 2);
    }
    for (int64_t i = 1; i < n; i++) {
        char *p = pl_strbuf_reserve(w->out, sep_len + PL__JSON_NUM_MAX);
        if (!p) return;
        memcpy(p, sep, sep_len);
        pl_strbuf_commit(w->out, sep_len + (size_t)format_scalar(t, first + i, p + sep_len));
    }
    w->level[w->depth - 1].count += n - 1;
}

/* AddTensorValues: the values of t from dimension `dim` on, starting at
 * element *offset. */
static pl_status tensor_values(writer *w, const pl_tensor *t, bool as_bytes, int dim, int64_t *offset) {
    if (!dtype_writable(t->dtype) && t->count > 0)
        return pl_error(PL_INVALID_ARGUMENT, "Failed to write JSON value for tensor type: %s",
                        pl_dtype_string(t->dtype));
    if (dim > t->rank - 1) {
        scalar(w, t, (*offset)++, as_bytes);
        return NULL;
    }
    open_container(w, true);
    int64_t n = t->dims[dim];
    if (dim == t->rank - 1) {
        if (t->dtype == PL_DT_STRING) {
            for (int64_t i = 0; i < n; i++) scalar(w, t, *offset + i, as_bytes);
        } else {
            number_run(w, t, *offset, n);
        }
        *offset += n;
    } else {
        for (int64_t i = 0; i < n; i++) PL_TRY(tensor_values(w, t, as_bytes, dim + 1, offset));
    }
    close_container(w);
    return NULL;
}

static bool is_bytes(const char *alias, const pl_tensor *t) {
    size_t n = strlen(alias);
    return t->dtype == PL_DT_STRING && n >= 6 && memcmp(alias + n - 6, "_bytes", 6) == 0;
}

pl_status pl_json_encode_predict(pl_json_format format, int num_outputs, const char *const *aliases,
                                 pl_tensor *const *tensors, pl_strbuf *out) {
    if (num_outputs <= 0) return pl_error(PL_INVALID_ARGUMENT, "Cannot convert empty tensor map to JSON");
    writer w = {.out = out};
    bool objects = num_outputs > 1;
    if (format == PL_JSON_FORMAT_ROW) {
        int64_t batch = -1;
        for (int k = 0; k < num_outputs; k++) {
            const pl_tensor *t = tensors[k];
            if (t->rank == 0)
                return pl_error(PL_INVALID_ARGUMENT, "Tensor name: %s has no shape information ", aliases[k]);
            if (batch >= 0 && batch != t->dims[0])
                return pl_error(PL_INVALID_ARGUMENT, "Tensor name: %s has inconsistent batch size: %lld expecting: %lld",
                                aliases[k], (long long)t->dims[0], (long long)batch);
            batch = t->dims[0];
        }
        int64_t *offsets = calloc((size_t)num_outputs, sizeof *offsets);
        if (!offsets) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
        pl_status st = NULL;
        open_container(&w, false);
        key(&w, "predictions");
        open_container(&w, true);
        for (int64_t item = 0; item < batch; item++) {
            if (objects) open_container(&w, false);
            w.single_line = true;
            for (int k = 0; k < num_outputs; k++) {
                if (objects) key(&w, aliases[k]);
                st = tensor_values(&w, tensors[k], is_bytes(aliases[k], tensors[k]), 1, &offsets[k]);
                if (st) break;
            }
            if (st) break;
            w.single_line = false;
            if (objects) close_container(&w);
        }
        free(offsets);
        if (st) return st;
        close_container(&w);
        close_container(&w);
    } else if (format == PL_JSON_FORMAT_COLUMNAR) {
        open_container(&w, false);
        key(&w, "outputs");
        if (objects) open_container(&w, false);
        for (int k = 0; k < num_outputs; k++) {
            if (objects) key(&w, aliases[k]);
            int64_t offset = 0;
            PL_TRY(tensor_values(&w, tensors[k], is_bytes(aliases[k], tensors[k]), 0, &offset));
        }
        if (objects) close_container(&w);
        close_container(&w);
    } else {
        return pl_error(PL_INVALID_ARGUMENT, "Invalid request format");
    }
    return pl_strbuf_status(out);
}

pl_status pl_json_encode_classify(int num_results, const pl_json_classification *results, pl_strbuf *out) {
    if (num_results <= 0) return pl_error(PL_INVALID_ARGUMENT, "Cannot convert empty ClassificationResults to JSON");
    writer w = {.out = out};
    char buf[PL__JSON_NUM_MAX];
    open_container(&w, false);
    key(&w, "results");
    open_container(&w, true);
    for (int r = 0; r < num_results; r++) {
        w.single_line = true;
        open_container(&w, true);
        for (int i = 0; i < results[r].num_classes; i++) {
            const pl_json_class *cl = &results[r].classes[i];
            open_container(&w, true);
            string_value(&w, cl->label, cl->label_len, false);
            prefix(&w);
            pl_strbuf_append(out, buf, (size_t)pl__json_format_float(cl->score, buf));
            close_container(&w);
        }
        close_container(&w);
        w.single_line = false;
    }
    close_container(&w);
    close_container(&w);
    return pl_strbuf_status(out);
}

pl_status pl_json_encode_regress(int num_results, const float *values, pl_strbuf *out) {
    if (num_results <= 0) return pl_error(PL_INVALID_ARGUMENT, "Cannot convert empty RegressionResults to JSON");
    writer w = {.out = out};
    char buf[PL__JSON_NUM_MAX];
    open_container(&w, false);
    key(&w, "results");
    w.single_line = true;
    open_container(&w, true);
    for (int r = 0; r < num_results; r++) {
        prefix(&w);
        pl_strbuf_append(out, buf, (size_t)pl__json_format_float(values[r], buf));
    }
    close_container(&w);
    w.single_line = false;
    close_container(&w);
    return pl_strbuf_status(out);
}

void pl_json_encode_error(const char *message, pl_strbuf *out) {
    writer w = {.out = out};
    open_container(&w, false);
    key(&w, "error");
    string_value(&w, message, strlen(message), false);
    close_container(&w);
}
