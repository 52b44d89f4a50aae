/* TensorProto <-> pl_tensor conversion (see tensor_proto.h for the rules). */
#include "tensor/tensor_proto.h"

#include <stdlib.h>
#include <string.h>

/* tensor_content is little-endian on the wire; we copy it byte for byte. */
_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "tensor_content decoding assumes a little-endian host");

typedef struct { float re, im; } complex64;
typedef struct { double re, im; } complex128;

static const char *proto_dtype_name(int dtype) {
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(&tensorflow__data_type__descriptor, dtype);
    return v ? v->name : NULL;
}

/* ---- shapes ---- */

static pl_status shape_parse(const Tensorflow__TensorShapeProto *p, bool partial, int *rank, int64_t *dims) {
    *rank = 0;
    if (!p) return NULL;
    if (p->unknown_rank) {
        if (!partial) return pl_error(PL_INVALID_ARGUMENT, "tensor shape has unknown rank");
        if (p->n_dim)
            return pl_error(PL_INVALID_ARGUMENT, "tensor shape has unknown rank but %zu dimensions", p->n_dim);
        *rank = -1;
        return NULL;
    }
    if (p->n_dim > PL_MAX_RANK)
        return pl_error(PL_INVALID_ARGUMENT, "tensor shape has %zu dimensions; at most %d are supported", p->n_dim,
                        PL_MAX_RANK);
    int64_t count = 1; /* -1 once a dimension is unknown */
    for (size_t i = 0; i < p->n_dim; i++) {
        if (!p->dim[i]) return pl_error(PL_INVALID_ARGUMENT, "tensor shape dimension %zu is missing", i);
        int64_t d = p->dim[i]->size;
        if (d < 0 && !(partial && d == -1))
            return pl_error(PL_INVALID_ARGUMENT, "tensor shape has negative dimension %lld at index %zu", (long long)d, i);
        if (d == -1) {
            count = -1;
        } else if (count >= 0) {
            if (d != 0 && count > INT64_MAX / d)
                return pl_error(PL_INVALID_ARGUMENT, "tensor shape has too many elements (overflow at dimension %zu)",
                                i);
            count *= d;
        }
        dims[i] = d;
    }
    *rank = (int)p->n_dim;
    return NULL;
}

pl_status pl_shape_from_proto(const Tensorflow__TensorShapeProto *p, int *rank, int64_t *dims) {
    return shape_parse(p, false, rank, dims);
}

pl_status pl_partial_shape_from_proto(const Tensorflow__TensorShapeProto *p, int *rank, int64_t *dims) {
    return shape_parse(p, true, rank, dims);
}

/* ---- decoding ---- */

/* Copies the first min(n, nsrc) source values converted by CONV, then repeats
 * the last one; all zero when there is no source value (Tensor::FromProto). */
#define BROADCAST(DST_T, SRC, NSRC, CONV)                                 \
    do {                                                                  \
        DST_T *d_ = (DST_T *)t->data;                                     \
        int64_t in_ = (int64_t)(NSRC), m_ = n < in_ ? n : in_;            \
        for (int64_t i_ = 0; i_ < m_; i_++) d_[i_] = CONV((SRC)[i_]);  \
        DST_T last_ = m_ ? d_[m_ - 1] : (DST_T){0};                       \
        for (int64_t i_ = m_; i_ < n; i_++) d_[i_] = last_;               \
    } while (0)
#define SAME(x) (x)
#define AS_BOOL(x) ((x) != 0)

static void fill_typed(pl_tensor *t, const Tensorflow__TensorProto *p) {
    int64_t n = t->count;
    switch (t->dtype) {
    case PL_DT_FLOAT: BROADCAST(float, p->float_val, p->n_float_val, SAME); break;
    case PL_DT_DOUBLE: BROADCAST(double, p->double_val, p->n_double_val, SAME); break;
    case PL_DT_INT32: case PL_DT_QINT32: BROADCAST(int32_t, p->int_val, p->n_int_val, SAME); break;
    case PL_DT_UINT8: case PL_DT_QUINT8: BROADCAST(uint8_t, p->int_val, p->n_int_val, SAME); break;
    /* Narrowing keeps the low bits, as C++'s conversion does. */
    case PL_DT_INT8: case PL_DT_QINT8: BROADCAST(int8_t, p->int_val, p->n_int_val, (int8_t)(uint8_t)); break;
    case PL_DT_INT16: case PL_DT_QINT16: BROADCAST(int16_t, p->int_val, p->n_int_val, (int16_t)(uint16_t)); break;
    case PL_DT_UINT16: case PL_DT_QUINT16: BROADCAST(uint16_t, p->int_val, p->n_int_val, SAME); break;
    case PL_DT_HALF: case PL_DT_BFLOAT16: BROADCAST(uint16_t, p->half_val, p->n_half_val, SAME); break;
    case PL_DT_INT64: BROADCAST(int64_t, p->int64_val, p->n_int64_val, SAME); break;
    case PL_DT_UINT32: BROADCAST(uint32_t, p->uint32_val, p->n_uint32_val, SAME); break;
    case PL_DT_UINT64: BROADCAST(uint64_t, p->uint64_val, p->n_uint64_val, SAME); break;
    case PL_DT_BOOL: BROADCAST(uint8_t, p->bool_val, p->n_bool_val, AS_BOOL); break;
    /* Complex values are (re, im) pairs; an odd trailing value is ignored. */
    case PL_DT_COMPLEX64: BROADCAST(complex64, (const complex64 *)p->scomplex_val, p->n_scomplex_val / 2, SAME); break;
    case PL_DT_COMPLEX128:
        BROADCAST(complex128, (const complex128 *)p->dcomplex_val, p->n_dcomplex_val / 2, SAME);
        break;
    default: break; /* strings and objects are handled by the caller */
    }
}

static pl_status fill_strings(pl_tensor *t, const Tensorflow__TensorProto *p) {
    int64_t in = (int64_t)p->n_string_val;
    for (int64_t i = 0; i < t->count && in > 0; i++) {
        const ProtobufCBinaryData *s = &p->string_val[i < in ? i : in - 1];
        PL_TRY(pl_tensor_set_string(t, i, s->data, s->len));
    }
    return NULL;
}

/* One varint32 as TensorFlow's GetVarint32 reads it: at most 5 bytes, high
 * bits of the fifth dropped. Returns the bytes used, 0 when truncated. */
static size_t read_varint32(const uint8_t *p, size_t avail, uint32_t *value) {
    uint32_t result = 0;
    for (size_t i = 0; i < 5 && i < avail; i++) {
        uint32_t byte = p[i];
        result |= (byte & 127u) << (7 * i);
        if (!(byte & 128)) {
            *value = result;
            return i + 1;
        }
    }
    return 0;
}

/* DT_STRING tensor_content: n varint32 lengths, then the bytes of all strings. */
static pl_status check_string_list(const ProtobufCBinaryData *c, int64_t n, size_t *header) {
    /* Every length takes at least one byte; this also bounds n before any allocation. */
    if ((uint64_t)n > c->len)
        return pl_error(PL_INVALID_ARGUMENT, "tensor_content of %zu bytes cannot hold %lld strings", c->len,
                        (long long)n);
    size_t pos = 0;
    uint64_t total = 0;
    for (int64_t i = 0; i < n; i++) {
        uint32_t len;
        size_t used = read_varint32(c->data + pos, c->len - pos, &len);
        if (!used) return pl_error(PL_INVALID_ARGUMENT, "tensor_content is truncated in the length of string %lld",
                                   (long long)i);
        pos += used;
        total += len;
    }
    if (total != c->len - pos)
        return pl_error(PL_INVALID_ARGUMENT, "tensor_content holds %zu string bytes but the lengths add up to %llu",
                        c->len - pos, (unsigned long long)total);
    *header = pos;
    return NULL;
}

static pl_status decode_string_list(pl_tensor *t, const ProtobufCBinaryData *c, size_t header) {
    size_t pos = 0, data = header;
    for (int64_t i = 0; i < t->count; i++) {
        uint32_t len = 0; /* validated by check_string_list */
        pos += read_varint32(c->data + pos, header - pos, &len);
        PL_TRY(pl_tensor_set_string(t, i, c->data + data, len));
        data += len;
    }
    return NULL;
}

pl_status pl_tensor_from_proto(const Tensorflow__TensorProto *p, pl_tensor **out) {
    pl_dtype dtype = (pl_dtype)p->dtype;
    if (!pl_dtype_valid(dtype)) {
        const char *name = proto_dtype_name(p->dtype);
        if (name) return pl_error(PL_INVALID_ARGUMENT, "tensor has unsupported dtype %s", name);
        return pl_error(PL_INVALID_ARGUMENT, "tensor has invalid dtype %d", (int)p->dtype);
    }
    int rank;
    int64_t dims[PL_MAX_RANK], n;
    PL_TRY(pl_shape_from_proto(p->tensor_shape, &rank, dims));
    PL_TRY(pl_shape_count(rank, dims, &n));
    if (n > 0 && (dtype == PL_DT_RESOURCE || dtype == PL_DT_VARIANT))
        return pl_error(PL_UNIMPLEMENTED, "tensors of %s cannot be decoded from a TensorProto", pl_dtype_name(dtype));

    /* Validate tensor_content against the shape before allocating anything. */
    bool content = n > 0 && p->tensor_content.len > 0;
    size_t string_header = 0;
    if (content && dtype == PL_DT_STRING) {
        PL_TRY(check_string_list(&p->tensor_content, n, &string_header));
    } else if (content) {
        size_t size = pl_dtype_size(dtype);
        if ((uint64_t)n > SIZE_MAX / size || p->tensor_content.len != (size_t)n * size)
            return pl_error(PL_INVALID_ARGUMENT, "tensor_content has %zu bytes but %lld elements of %s need %llu",
                            p->tensor_content.len, (long long)n, pl_dtype_name(dtype),
                            (unsigned long long)n * (unsigned long long)size);
    }

    pl_tensor *t;
    PL_TRY(pl_tensor_alloc(dtype, rank, dims, &t));
    pl_status st = NULL;
    if (n == 0) {
        /* nothing to fill */
    } else if (content && dtype == PL_DT_STRING) {
        st = decode_string_list(t, &p->tensor_content, string_header);
    } else if (content) {
        memcpy(t->data, p->tensor_content.data, p->tensor_content.len);
        if (dtype == PL_DT_BOOL) {
            uint8_t *b = t->data;
            for (int64_t i = 0; i < n; i++) b[i] = b[i] != 0;
        }
    } else if (dtype == PL_DT_STRING) {
        st = fill_strings(t, p);
    } else {
        fill_typed(t, p);
    }
    if (st) {
        pl_tensor_unref(t);
        return st;
    }
    *out = t;
    return NULL;
}

/* ---- encoding ---- */

static void *pb_alloc(ProtobufCAllocator *a, size_t size) {
    return a ? a->alloc(a->allocator_data, size) : malloc(size);
}

/* Allocates an array of n elements into *field, setting *count only on
 * success so that a half-built message can always be freed. */
static bool alloc_array(ProtobufCAllocator *a, void *field, size_t *count, size_t n, size_t elem) {
    if (n == 0) return true;
    void *arr = pb_alloc(a, n * elem);
    if (!arr) return false;
    *(void **)field = arr;
    *count = n;
    return true;
}

static bool encode_shape(const pl_tensor *t, ProtobufCAllocator *a, Tensorflow__TensorProto *p) {
    Tensorflow__TensorShapeProto *s = pb_alloc(a, sizeof *s);
    if (!s) return false;
    tensorflow__tensor_shape_proto__init(s);
    p->tensor_shape = s;
    if (t->rank == 0) return true;
    Tensorflow__TensorShapeProto__Dim **dims = pb_alloc(a, (size_t)t->rank * sizeof *dims);
    if (!dims) return false;
    s->dim = dims;
    for (int i = 0; i < t->rank; i++) {
        Tensorflow__TensorShapeProto__Dim *d = pb_alloc(a, sizeof *d);
        if (!d) return false;
        tensorflow__tensor_shape_proto__dim__init(d);
        d->size = t->dims[i];
        dims[i] = d;
        s->n_dim = (size_t)i + 1;
    }
    return true;
}

static bool copy_bytes(ProtobufCAllocator *a, ProtobufCBinaryData *dst, const void *src, size_t len) {
    dst->len = 0;
    dst->data = NULL;
    if (len == 0) return true;
    dst->data = pb_alloc(a, len);
    if (!dst->data) return false;
    memcpy(dst->data, src, len);
    dst->len = len;
    return true;
}

/* Widens each element into a freshly allocated repeated field. */
#define WIDEN(FIELD, SRC_T, CONV)                                                    \
    do {                                                                             \
        if (!alloc_array(a, &p->FIELD, &p->n_##FIELD, (size_t)n, sizeof *p->FIELD))  \
            return false;                                                            \
        const SRC_T *s_ = t->data;                                                   \
        for (int64_t i_ = 0; i_ < n; i_++) p->FIELD[i_] = CONV(s_[i_]);              \
    } while (0)
#define COPY(FIELD, PER_ELEM)                                                                     \
    do {                                                                                          \
        if (!alloc_array(a, &p->FIELD, &p->n_##FIELD, (size_t)n * (PER_ELEM), sizeof *p->FIELD)) \
            return false;                                                                         \
        if (n) memcpy(p->FIELD, t->data, pl_tensor_nbytes(t));                                   \
    } while (0)

static bool encode_typed(const pl_tensor *t, ProtobufCAllocator *a, Tensorflow__TensorProto *p) {
    int64_t n = t->count;
    switch (t->dtype) {
    case PL_DT_FLOAT: COPY(float_val, 1); break;
    case PL_DT_DOUBLE: COPY(double_val, 1); break;
    case PL_DT_INT32: case PL_DT_QINT32: COPY(int_val, 1); break;
    case PL_DT_INT64: COPY(int64_val, 1); break;
    case PL_DT_UINT32: COPY(uint32_val, 1); break;
    case PL_DT_UINT64: COPY(uint64_val, 1); break;
    case PL_DT_COMPLEX64: COPY(scomplex_val, 2); break;
    case PL_DT_COMPLEX128: COPY(dcomplex_val, 2); break;
    case PL_DT_UINT8: case PL_DT_QUINT8: WIDEN(int_val, uint8_t, SAME); break;
    case PL_DT_INT8: case PL_DT_QINT8: WIDEN(int_val, int8_t, SAME); break;
    case PL_DT_INT16: case PL_DT_QINT16: WIDEN(int_val, int16_t, SAME); break;
    case PL_DT_UINT16: case PL_DT_QUINT16: WIDEN(int_val, uint16_t, SAME); break;
    case PL_DT_HALF: case PL_DT_BFLOAT16: WIDEN(half_val, uint16_t, SAME); break;
    case PL_DT_BOOL: WIDEN(bool_val, uint8_t, AS_BOOL); break;
    case PL_DT_STRING: {
        if (!alloc_array(a, &p->string_val, &p->n_string_val, (size_t)n, sizeof *p->string_val)) return false;
        /* Zero first so that a failure part-way leaves only freeable entries
         * (no elements: string_val is NULL, which memset must not see). */
        if (n) memset(p->string_val, 0, (size_t)n * sizeof *p->string_val);
        const pl_str *s = t->data;
        for (int64_t i = 0; i < n; i++)
            if (!copy_bytes(a, &p->string_val[i], s[i].data, s[i].len)) return false;
        break;
    }
    default: break;
    }
    return true;
}

static size_t varint_size(uint64_t v) {
    size_t n = 1;
    while (v >= 128) {
        v >>= 7;
        n++;
    }
    return n;
}

static pl_status encode_string_list(const pl_tensor *t, ProtobufCAllocator *a, ProtobufCBinaryData *dst, bool *oom) {
    const pl_str *s = t->data;
    size_t total = 0;
    for (int64_t i = 0; i < t->count; i++) {
        if (s[i].len > UINT32_MAX)
            return pl_error(PL_INVALID_ARGUMENT, "string element %lld of %zu bytes is too long for tensor_content",
                            (long long)i, s[i].len);
        total += varint_size(s[i].len) + s[i].len;
    }
    if (total == 0) return NULL;
    uint8_t *out = pb_alloc(a, total);
    if (!out) {
        *oom = true;
        return NULL;
    }
    size_t pos = 0;
    for (int64_t i = 0; i < t->count; i++)
        for (uint64_t v = s[i].len;; v >>= 7) {
            out[pos++] = (uint8_t)(v < 128 ? v : (v & 127) | 128);
            if (v < 128) break;
        }
    for (int64_t i = 0; i < t->count; i++) {
        if (s[i].len) memcpy(out + pos, s[i].data, s[i].len);
        pos += s[i].len;
    }
    dst->data = out;
    dst->len = total;
    return NULL;
}

pl_status pl_tensor_to_proto(const pl_tensor *t, bool as_tensor_content, ProtobufCAllocator *alloc,
                             Tensorflow__TensorProto **out) {
    if (t->count > 0 && (t->dtype == PL_DT_RESOURCE || t->dtype == PL_DT_VARIANT))
        return pl_error(PL_UNIMPLEMENTED, "tensors of %s cannot be encoded as a TensorProto", pl_dtype_name(t->dtype));
    Tensorflow__TensorProto *p = pb_alloc(alloc, sizeof *p);
    if (!p) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory encoding a tensor");
    tensorflow__tensor_proto__init(p);
    p->dtype = (Tensorflow__DataType)t->dtype;
    bool ok = encode_shape(t, alloc, p), oom = false;
    pl_status st = NULL;
    if (ok && as_tensor_content && t->dtype == PL_DT_STRING) {
        st = encode_string_list(t, alloc, &p->tensor_content, &oom);
        ok = !oom;
    } else if (ok && as_tensor_content) {
        ok = copy_bytes(alloc, &p->tensor_content, t->data, pl_tensor_nbytes(t));
    } else if (ok) {
        ok = encode_typed(t, alloc, p);
    }
    if (!ok && !st) st = pl_error(PL_RESOURCE_EXHAUSTED, "out of memory encoding a tensor of %lld elements",
                                  (long long)t->count);
    if (st) {
        protobuf_c_message_free_unpacked(&p->base, alloc);
        return st;
    }
    *out = p;
    return NULL;
}
