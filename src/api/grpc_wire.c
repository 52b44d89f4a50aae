/* Protobuf wire-format walking for what protobuf-c does not do: a nesting
 * depth check before decoding, and splitting Classify/Regress/MultiInference
 * requests into serialized tf.Examples without decoding them. */
#include <string.h>

#include "api/grpc_internal.h"

typedef struct reader {
    const uint8_t *p, *end;
    bool bad;                 /* stopped on a malformed field */
} reader;

static bool read_varint(reader *r, uint64_t *v) {
    uint64_t x = 0;
    for (int shift = 0; shift < 64 && r->p < r->end; shift += 7) {
        uint8_t b = *r->p++;
        x |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

/* Reads one field header and, for length-delimited fields, the payload bounds. */
static bool read_field(reader *r, uint32_t *number, int *wire, const uint8_t **body, size_t *len) {
    uint64_t tag;
    if (!read_varint(r, &tag)) return false;
    *number = (uint32_t)(tag >> 3);
    *wire = (int)(tag & 7);
    if (*number == 0 || tag >> 3 > 0x1fffffff) return false;
    uint64_t v;
    switch (*wire) {
    case 0: return read_varint(r, &v);
    case 1:
        if (r->end - r->p < 8) return false;
        r->p += 8;
        return true;
    case 5:
        if (r->end - r->p < 4) return false;
        r->p += 4;
        return true;
    case 2:
        if (!read_varint(r, &v) || v > (uint64_t)(r->end - r->p)) return false;
        *body = r->p;
        *len = (size_t)v;
        r->p += v;
        return true;
    default: return false;  /* groups are not used by these protocols */
    }
}

/* Advances to the next length-delimited field, skipping the others: every
 * walk here looks only into sub-messages and bytes. False at the end of the
 * message, or on a malformed field, which sets r->bad. */
static bool next_bytes_field(reader *r, uint32_t *number, const uint8_t **body, size_t *len) {
    while (r->p < r->end) {
        int wire;
        if (!read_field(r, number, &wire, body, len)) {
            r->bad = true;
            return false;
        }
        if (wire == 2) return true;
    }
    return false;
}

bool pl__wire_depth_ok(const ProtobufCMessageDescriptor *desc, const uint8_t *data, size_t len, int max_depth) {
    reader r = {data, data + len, false};
    uint32_t number;
    const uint8_t *body = NULL;
    size_t blen = 0;
    while (next_bytes_field(&r, &number, &body, &blen)) {
        if (!desc) continue;
        const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(desc, (unsigned)number);
        if (!f || f->type != PROTOBUF_C_TYPE_MESSAGE) continue;
        if (max_depth <= 0) return false;
        if (!pl__wire_depth_ok(f->descriptor, body, blen, max_depth - 1)) return false;
    }
    return !r.bad;
}

static bool push_str(pl_arena *a, pl_str **arr, int64_t *n, int64_t *cap, const uint8_t *p, size_t len) {
    if (*n == *cap) {
        int64_t ncap = *cap ? *cap * 2 : 16;
        pl_str *na = pl_arena_alloc(a, sizeof *na * (size_t)ncap);
        if (!na) return false;
        if (*n) memcpy(na, *arr, sizeof *na * (size_t)*n);
        *arr = na;
        *cap = ncap;
    }
    (*arr)[(*n)++] = (pl_str){.len = len, .data = (char *)p};
    return true;
}

/* Appends `p` to a merged sub-message (concatenated serializations merge). */
static bool merge_bytes(pl_arena *a, const uint8_t **dst, size_t *dst_len, const uint8_t *p, size_t len) {
    if (!*dst) {
        *dst = p;
        *dst_len = len;
        return true;
    }
    uint8_t *joined = pl_arena_alloc(a, *dst_len + len + 1);
    if (!joined) return false;
    memcpy(joined, *dst, *dst_len);
    memcpy(joined + *dst_len, p, len);
    *dst = joined;
    *dst_len += len;
    return true;
}

typedef struct scan_state {
    pl_arena *a;
    pl__wire_request *out;
    int64_t cap;
    int kind;                 /* 0 none, 1 example_list, 2 example_list_with_context */
    const uint8_t *context;
    size_t context_len;
} scan_state;

static pl_status malformed(void) { return pl_error(PL_INTERNAL, "Failed to parse request"); }
static pl_status oom(void) { return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory decoding the request"); }

/* ExampleList / ExampleListWithContext: 1 = repeated Example, 2 = context. */
static pl_status scan_list(scan_state *s, const uint8_t *data, size_t len, bool with_context) {
    reader r = {data, data + len, false};
    uint32_t number;
    const uint8_t *body = NULL;
    size_t blen = 0;
    while (next_bytes_field(&r, &number, &body, &blen)) {
        if (number == 1) {
            if (!push_str(s->a, &s->out->examples, &s->out->num_examples, &s->cap, body, blen)) return oom();
        } else if (number == 2 && with_context) {
            if (!merge_bytes(s->a, &s->context, &s->context_len, body, blen)) return oom();
        }
    }
    return r.bad ? malformed() : NULL;
}

/* Input: oneof { 1 = example_list, 2 = example_list_with_context }. */
static pl_status scan_input(scan_state *s, const uint8_t *data, size_t len) {
    reader r = {data, data + len, false};
    uint32_t number;
    const uint8_t *body = NULL;
    size_t blen = 0;
    while (next_bytes_field(&r, &number, &body, &blen)) {
        if (number != 1 && number != 2) continue;
        if (s->kind != (int)number) {
            /* Setting the other member of a oneof clears the first. */
            s->kind = (int)number;
            s->out->num_examples = 0;
            s->context = NULL;
            s->context_len = 0;
        }
        PL_TRY(scan_list(s, body, blen, number == 2));
    }
    return r.bad ? malformed() : NULL;
}

pl_status pl__wire_scan_request(pl_arena *a, const uint8_t *data, size_t len, bool multi, pl__wire_request *out) {
    memset(out, 0, sizeof *out);
    scan_state s = {.a = a, .out = out};
    int64_t ntasks = 0, task_cap = 0;
    reader r = {data, data + len, false};
    uint32_t number;
    const uint8_t *body = NULL;
    size_t blen = 0;
    while (next_bytes_field(&r, &number, &body, &blen)) {
        if (number == 1 && multi) {
            if (ntasks >= INT32_MAX / 2) return malformed();
            if (!push_str(a, &out->tasks, &ntasks, &task_cap, body, blen)) return oom();
        } else if (number == 1) {
            if (!merge_bytes(a, &out->model_spec, &out->model_spec_len, body, blen)) return oom();
            out->has_model_spec = true;
        } else if (number == 2) {
            PL_TRY(scan_input(&s, body, blen));
        }
    }
    if (r.bad) return malformed();
    out->num_tasks = (int)ntasks;
    if (s.kind == 2) {
        out->has_context = true;
        out->context = (pl_str){.len = s.context_len, .data = (char *)(s.context ? s.context : (const uint8_t *)"")};
    }
    return NULL;
}
