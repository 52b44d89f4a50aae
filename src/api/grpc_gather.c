/* A large PredictRequest gathered out of its received pieces without a copy
 * of the whole message.
 *
 * gRPC hands a message over as hundreds of pieces. Made contiguous for
 * protobuf-c, which then copies every bytes field once more, a 25 MB image
 * would be resident three times over. Instead, each large
 * inputs[k].tensor_content goes straight from the pieces into its own
 * 64-byte aligned block of the call's pool (where pl__pb_take_tensor takes
 * it as the tensor), the rest of the message (names, shapes, small tensors)
 * is re-encoded compactly with those contents left out, and each piece is
 * let go as soon as it has been read.
 *
 * Only the path PredictRequest.inputs (2) -> entry.value (2) ->
 * TensorProto.tensor_content (4) is taken apart; every other field is copied
 * through as it came, so protobuf-c still judges the message. */
#include <stdlib.h>
#include <string.h>

#include "api/grpc_internal.h"
#include "base/heap.h"
#include "base/strbuf.h"

enum {
    WIRE_VARINT = 0,
    WIRE_FIXED64 = 1,
    WIRE_LEN = 2,
    WIRE_FIXED32 = 5,
};

/* Give freed pieces back to the system every this many bytes read. */
#define TRIM_EVERY ((size_t)8 << 20)

typedef struct cursor {
    grpc_slice_buffer *pieces;
    size_t piece, off;   /* the next byte */
    size_t pos;          /* bytes read so far */
    size_t since_trim;
} cursor;

/* Lets go of every piece read to its end. */
static void drop_read_pieces(cursor *c) {
    while (c->piece < c->pieces->count && c->off == GRPC_SLICE_LENGTH(c->pieces->slices[c->piece])) {
        c->since_trim += c->off;
        grpc_slice_unref(c->pieces->slices[c->piece]);
        c->pieces->slices[c->piece] = grpc_empty_slice();
        c->piece++;
        c->off = 0;
    }
    if (c->since_trim >= TRIM_EVERY) {
        pl_heap_trim();
        c->since_trim = 0;
    }
}

/* Copies the next n bytes to dst (or skips them when dst is NULL). */
static bool take(cursor *c, void *dst, size_t n) {
    if (n > c->pieces->length - c->pos) return false;
    uint8_t *w = dst;
    while (n > 0) {
        drop_read_pieces(c);
        const grpc_slice *s = &c->pieces->slices[c->piece];
        size_t k = GRPC_SLICE_LENGTH(*s) - c->off;
        if (k > n) k = n;
        if (w) {
            memcpy(w, GRPC_SLICE_START_PTR(*s) + c->off, k);
            w += k;
        }
        c->off += k;
        c->pos += k;
        n -= k;
    }
    drop_read_pieces(c);
    return true;
}

/* A varint as read, with its bytes: fields copied through keep their exact
 * encoding (an overlong varint of an unknown field stays as it came). */
typedef struct varint {
    uint64_t value;
    uint8_t raw[10];
    size_t len;
} varint;

static bool take_varint(cursor *c, varint *v) {
    v->value = 0;
    for (v->len = 0; v->len < sizeof v->raw; v->len++) {
        uint8_t b;
        if (!take(c, &b, 1)) return false;
        v->raw[v->len] = b;
        v->value |= (uint64_t)(b & 0x7f) << (7 * v->len);
        if (!(b & 0x80)) {
            v->len++;
            return true;
        }
    }
    return false;
}

static void put_raw(pl_strbuf *out, const varint *v) { pl_strbuf_append(out, v->raw, v->len); }

static void put_varint(pl_strbuf *out, uint64_t v) {
    char buf[10];
    size_t n = 0;
    do {
        buf[n++] = (char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    pl_strbuf_append(out, buf, n);
}

/* Copies the next n bytes to out as they are. */
static bool copy_through(cursor *c, pl_strbuf *out, size_t n) {
    char *w = pl_strbuf_reserve(out, n);
    if (!w) return false;
    if (!take(c, w, n)) return false;
    pl_strbuf_commit(out, n);
    return true;
}

/* One field whose tag is already read, copied through as it came. */
static bool copy_field(cursor *c, pl_strbuf *out, const varint *tag) {
    put_raw(out, tag);
    varint v;
    switch (tag->value & 7) {
    case WIRE_VARINT:
        if (!take_varint(c, &v)) return false;
        put_raw(out, &v);
        return true;
    case WIRE_FIXED64: return copy_through(c, out, 8);
    case WIRE_FIXED32: return copy_through(c, out, 4);
    case WIRE_LEN:
        if (!take_varint(c, &v) || v.value > c->pieces->length - c->pos) return false;
        put_raw(out, &v);
        return copy_through(c, out, (size_t)v.value);
    default: return false; /* groups: no tensorflow.serving message has them */
    }
}

/* True when n more bytes end at or before `end`. */
static bool fits(const cursor *c, size_t end, uint64_t n) { return c->pos <= end && n <= end - c->pos; }

typedef struct gathering {
    cursor cur;
    size_t min_content;
    pl__pb_pool *pool;
    pl__grpc_gathered *found;
} gathering;

/* Reads one length-delimited field (its tag read already) through `fn`, which
 * writes the field's new payload; the field is written out with that
 * payload's length. */
typedef bool (*payload_fn)(gathering *g, pl_strbuf *out, size_t end, int entry);

static bool rewrite_field(gathering *g, pl_strbuf *out, const varint *tag, size_t end, payload_fn fn, int entry) {
    varint n;
    if (!take_varint(&g->cur, &n) || !fits(&g->cur, end, n.value)) return false;
    pl_strbuf sub;
    pl_strbuf_init(&sub, 0);
    bool ok = fn(g, &sub, g->cur.pos + (size_t)n.value, entry) && !sub.failed;
    if (ok) {
        put_raw(out, tag);
        put_varint(out, sub.len);
        pl_strbuf_append(out, sub.data, sub.len);
    }
    pl_strbuf_deinit(&sub);
    return ok;
}

/* TensorProto up to `end`: a large tensor_content (4) goes into a block of its own. */
static bool tensor_proto(gathering *g, pl_strbuf *out, size_t end, int entry) {
    while (g->cur.pos < end) {
        varint tag, n;
        if (!take_varint(&g->cur, &tag) || g->cur.pos > end) return false;
        if (tag.value == (4 << 3 | WIRE_LEN)) {
            if (!take_varint(&g->cur, &n) || !fits(&g->cur, end, n.value)) return false;
            if (n.value >= g->min_content) {
                void *block = pl__pb_big_alloc(g->pool, (size_t)n.value);
                if (!block || !take(&g->cur, block, (size_t)n.value)) return false;
                /* The last occurrence wins, as it does in protobuf-c. */
                g->found->entries[entry].data = block;
                g->found->entries[entry].len = (size_t)n.value;
                continue;
            }
            /* A small one after a large one replaces it. */
            g->found->entries[entry].data = NULL;
            put_raw(out, &tag);
            put_raw(out, &n);
            if (!copy_through(&g->cur, out, (size_t)n.value)) return false;
        } else if (!copy_field(&g->cur, out, &tag)) {
            return false;
        }
        if (g->cur.pos > end) return false;
    }
    return true;
}

/* One inputs map entry up to `end`: its value (2) is a TensorProto. */
static bool inputs_entry(gathering *g, pl_strbuf *out, size_t end, int entry) {
    while (g->cur.pos < end) {
        varint tag;
        if (!take_varint(&g->cur, &tag) || g->cur.pos > end) return false;
        bool ok = tag.value == (2 << 3 | WIRE_LEN) ? rewrite_field(g, out, &tag, end, tensor_proto, entry)
                                                   : copy_field(&g->cur, out, &tag);
        if (!ok || g->cur.pos > end) return false;
    }
    return true;
}

/* Room for one more inputs entry. */
static bool add_entry(pl__grpc_gathered *found, pl_arena *arena, int *entry) {
    if (found->num_entries == found->cap_entries) {
        int cap = found->cap_entries ? 2 * found->cap_entries : 8;
        pl__grpc_gathered_entry *grown = pl_arena_alloc(arena, sizeof *grown * (size_t)cap);
        if (!grown) return false;
        if (found->num_entries) memcpy(grown, found->entries, sizeof *grown * (size_t)found->num_entries);
        found->entries = grown;
        found->cap_entries = cap;
    }
    *entry = found->num_entries++;
    found->entries[*entry] = (pl__grpc_gathered_entry){0};
    return true;
}

pl_status pl__grpc_gather(grpc_slice_buffer *pieces, size_t min_content, pl__pb_pool *pool, pl_arena *arena,
                          grpc_slice *compact, pl__grpc_gathered *found) {
    memset(found, 0, sizeof *found);
    gathering g = {.cur = {.pieces = pieces}, .min_content = min_content, .pool = pool, .found = found};
    pl_strbuf out;
    pl_strbuf_init(&out, 0);
    bool ok = true;
    /* PredictRequest: inputs (2) are map entries, everything else is copied through. */
    while (ok && g.cur.pos < pieces->length) {
        varint tag;
        int entry;
        ok = take_varint(&g.cur, &tag);
        if (ok && tag.value == (2 << 3 | WIRE_LEN))
            ok = add_entry(found, arena, &entry) &&
                 rewrite_field(&g, &out, &tag, pieces->length, inputs_entry, entry);
        else if (ok)
            ok = copy_field(&g.cur, &out, &tag);
    }
    if (pieces->length >= PL_HEAP_TRIM_AFTER) pl_heap_trim();
    ok = ok && !out.failed;
    if (ok) *compact = grpc_slice_from_copied_buffer(out.data, out.len);
    pl_strbuf_deinit(&out);
    if (!ok) return pl_error(PL_INTERNAL, "Failed to parse request");
    return NULL;
}
