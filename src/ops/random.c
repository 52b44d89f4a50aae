/* Random number ops with TensorFlow's exact streams: Philox4x32-10 keyed by
 * the op's seeds, the same counter layout, the same reservation of 256
 * blocks per output element between runs of a stateful op, and the same
 * bits-to-number mappings, so a seeded graph draws TensorFlow's numbers.
 * seed = seed2 = 0 means "seed me from the system", as in TensorFlow. */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "ops/families.h"

/* ---- Philox4x32-10 (Salmon et al., SC 2011), TensorFlow's PhiloxRandom ---- */

typedef struct philox {
    uint32_t ctr[4];
    uint32_t key[2];
} philox;

static philox philox_from_seeds(uint64_t seed_lo, uint64_t seed_hi) {
    philox g = {{0, 0, (uint32_t)seed_hi, (uint32_t)(seed_hi >> 32)}, {(uint32_t)seed_lo, (uint32_t)(seed_lo >> 32)}};
    return g;
}

/* PhiloxRandom::Skip, carries included exactly as TensorFlow propagates them. */
static void philox_skip(philox *g, uint64_t count) {
    uint32_t lo = (uint32_t)count, hi = (uint32_t)(count >> 32);
    g->ctr[0] += lo;
    if (g->ctr[0] < lo) hi++;
    g->ctr[1] += hi;
    if (g->ctr[1] < hi && ++g->ctr[2] == 0) g->ctr[3]++;
}

/* One 128-bit block at the current counter, then the counter moves on by one. */
static void philox_next(philox *g, uint32_t out[4]) {
    uint32_t c0 = g->ctr[0], c1 = g->ctr[1], c2 = g->ctr[2], c3 = g->ctr[3];
    uint32_t k0 = g->key[0], k1 = g->key[1];
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0, n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0, out[1] = c1, out[2] = c2, out[3] = c3;
    if (++g->ctr[0] == 0 && ++g->ctr[1] == 0 && ++g->ctr[2] == 0) g->ctr[3]++;
}

/* ---- bits to numbers (random_distributions.h) ---- */

static float u32_to_float(uint32_t x) {
    uint32_t v = (127u << 23) | (x & 0x7fffffu);
    float f;
    memcpy(&f, &v, sizeof f);
    return f - 1.0f;
}

static double u64_to_double(uint32_t x0, uint32_t x1) {
    uint64_t v = ((uint64_t)1023 << 52) | ((uint64_t)(x0 & 0xfffffu) << 32) | x1;
    double d;
    memcpy(&d, &v, sizeof d);
    return d - 1.0;
}

/* SignedAdd(lo, r): lo + r without signed overflow on the way. */
static int64_t signed_add(int64_t lo, uint64_t r) {
    uint64_t half = r >> 1;
    return (int64_t)((uint64_t)lo + half + (r - half));
}

/* BoxMullerFloat. log, sqrt and sincos take and give float, as the C++
 * overloads TensorFlow calls do; 2*pi*u is formed in double, then rounded. */
static void box_muller_float(uint32_t x0, uint32_t x1, float *f0, float *f1) {
    float u1 = u32_to_float(x0);
    if (u1 < 1.0e-7f) u1 = 1.0e-7f;
    const float v1 = (float)(2.0f * M_PI * u32_to_float(x1));
    const float u2 = sqrtf(-2.0f * logf(u1));
    sincosf(v1, f0, f1);
    *f0 *= u2;
    *f1 *= u2;
}

static void box_muller_double(const uint32_t x[4], double *d0, double *d1) {
    double u1 = u64_to_double(x[0], x[1]);
    if (u1 < 1.0e-7) u1 = 1.0e-7;
    const double v1 = 2 * M_PI * u64_to_double(x[2], x[3]);
    const double u2 = sqrt(-2.0 * log(u1));
    sincos(v1, d0, d1);
    *d0 *= u2;
    *d1 *= u2;
}

typedef enum kind { UNIFORM, UNIFORM_INT, FULL_INT, NORMAL } kind;

typedef struct dist {
    kind kind;
    pl_dtype dtype;
    int64_t lo;            /* UNIFORM_INT: lo + bits % range */
    uint64_t range;
} dist;

/* One Philox block turned into the distribution's group of values. */
static int block_values(const dist *d, const uint32_t r[4], double f[4], int64_t v[4]) {
    bool wide = d->dtype == PL_DT_DOUBLE || d->dtype == PL_DT_INT64 || d->dtype == PL_DT_UINT64;
    int per = wide ? 2 : 4;
    for (int j = 0; j < per; j++) {
        uint64_t bits = wide ? (r[2 * j] | (uint64_t)r[2 * j + 1] << 32) : r[j];
        switch (d->kind) {
        case UNIFORM:
            if (d->dtype == PL_DT_DOUBLE) f[j] = u64_to_double(r[2 * j], r[2 * j + 1]);
            /* 10 (half) or 7 (bfloat16) random mantissa bits of [1, 2) minus 1: exact in float. */
            else if (d->dtype == PL_DT_HALF) f[j] = (float)(r[j] & 0x3ffu) / 1024.0f;
            else if (d->dtype == PL_DT_BFLOAT16) f[j] = (float)(r[j] & 0x7fu) / 128.0f;
            else f[j] = u32_to_float(r[j]);
            break;
        case UNIFORM_INT: v[j] = signed_add(d->lo, wide ? bits % d->range : (uint32_t)bits % (uint32_t)d->range); break;
        case FULL_INT: v[j] = (int64_t)bits; break;
        case NORMAL: break;
        }
    }
    if (d->kind == NORMAL) {
        if (d->dtype == PL_DT_DOUBLE) {
            box_muller_double(r, &f[0], &f[1]);
        } else {
            float a, b;
            for (int j = 0; j < 4; j += 2) {
                box_muller_float(r[j], r[j + 1], &a, &b);
                f[j] = a, f[j + 1] = b;
            }
        }
    }
    return per;
}

static void store(pl_tensor *t, int64_t i, double f, int64_t v) {
    switch (t->dtype) {
    case PL_DT_FLOAT: ((float *)t->data)[i] = (float)f; break;
    case PL_DT_DOUBLE: ((double *)t->data)[i] = f; break;
    case PL_DT_HALF: ((uint16_t *)t->data)[i] = pl_float_to_half((float)f); break;
    case PL_DT_BFLOAT16: ((uint16_t *)t->data)[i] = pl_float_to_bfloat16((float)f); break;
    case PL_DT_INT32: ((int32_t *)t->data)[i] = (int32_t)(uint32_t)v; break;
    case PL_DT_UINT32: ((uint32_t *)t->data)[i] = (uint32_t)v; break;
    case PL_DT_INT64: ((int64_t *)t->data)[i] = v; break;
    default: ((uint64_t *)t->data)[i] = (uint64_t)v; break;
    }
}

/* FillPhiloxRandom: output group i comes from block i of the stream (one
 * block gives 4 floats / halves / bfloat16s / 32-bit ints or 2 doubles /
 * 64-bit ints), whatever way TensorFlow shards the work. */
static void fill(philox g, const dist *d, pl_tensor *t) {
    uint32_t r[4];
    double f[4];
    int64_t v[4];
    for (int64_t base = 0; base < t->count;) {
        philox_next(&g, r);
        int per = block_values(d, r, f, v);
        for (int j = 0; j < per && base < t->count; j++, base++) store(t, base, f[j], v[j]);
    }
}

/* ---- shapes ---- */

static pl_status output_shape(const pl_tensor *s, int *rank, int64_t dims[PL_MAX_RANK]) {
    char buf[160];
    if (s->rank != 1 || (s->dtype != PL_DT_INT32 && s->dtype != PL_DT_INT64))
        return pl_error(PL_INVALID_ARGUMENT, "shape must be a vector of {int32,int64}, got shape %s",
                        pl_shape_str(s->rank, s->dims, buf, sizeof buf));
    if (s->count > PL_MAX_RANK)
        return pl_error(PL_INVALID_ARGUMENT, "shape has %lld dimensions; at most %d are supported",
                        (long long)s->count, PL_MAX_RANK);
    for (int64_t i = 0; i < s->count; i++) {
        dims[i] = pl_tensor_get_i64(s, i);
        if (dims[i] < 0) return pl_error(PL_INVALID_ARGUMENT, "Dimension %lld must be >= 0", (long long)dims[i]);
    }
    *rank = (int)s->count;
    return NULL;
}

static bool float_dtype(pl_dtype t) {
    return t == PL_DT_FLOAT || t == PL_DT_DOUBLE || t == PL_DT_HALF || t == PL_DT_BFLOAT16;
}

static bool int_dtype(pl_dtype t, bool unsigned_too) {
    return t == PL_DT_INT32 || t == PL_DT_INT64 || (unsigned_too && (t == PL_DT_UINT32 || t == PL_DT_UINT64));
}

/* minval < maxval as scalars of the output type; fills d's range. */
static pl_status int_range(const pl_tensor *lo, const pl_tensor *hi, dist *d) {
    char buf[160];
    if (lo->rank != 0)
        return pl_error(PL_INVALID_ARGUMENT, "minval must be 0-D, got shape %s",
                        pl_shape_str(lo->rank, lo->dims, buf, sizeof buf));
    if (hi->rank != 0)
        return pl_error(PL_INVALID_ARGUMENT, "maxval must be 0-D, got shape %s",
                        pl_shape_str(hi->rank, hi->dims, buf, sizeof buf));
    if (lo->dtype != d->dtype || hi->dtype != d->dtype)
        return pl_error(PL_INVALID_ARGUMENT, "minval and maxval must be %s", pl_dtype_name(d->dtype));
    int64_t a = pl_tensor_get_i64(lo, 0), b = pl_tensor_get_i64(hi, 0);
    if (a >= b) return pl_error(PL_INVALID_ARGUMENT, "Need minval < maxval, got %lld >= %lld", (long long)a, (long long)b);
    d->lo = a;
    d->range = d->dtype == PL_DT_INT32 ? (uint64_t)((uint32_t)b - (uint32_t)a) : (uint64_t)b - (uint64_t)a;
    return NULL;
}

/* ---- where a stream comes from ---- */

typedef enum source {
    STATEFUL,      /* seed/seed2 attrs; the op's generator moves on with every run */
    SEED,          /* a seed input of shape [2] */
    KEY_COUNTER,   /* key, counter and alg inputs (the V2 ops) */
} source;

typedef struct random_op {
    kind kind;
    source source;
    pl_dtype dtype;
    pthread_mutex_t mu;
    philox gen;    /* STATEFUL: advances by 256 blocks per output element per run */
} random_op;

static void random_op_free(void *state) {
    random_op *r = state;
    if (!r) return;
    if (r->source == STATEFUL) pthread_mutex_destroy(&r->mu);
    free(r);
}

static uint64_t system_seed(void) {
    uint64_t s;
    if (getrandom(&s, sizeof s, 0) == (ssize_t)sizeof s) return s;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    static atomic_uint_fast64_t salt;
    return ((uint64_t)ts.tv_sec * 1000000007u) ^ (uint64_t)ts.tv_nsec ^ (atomic_fetch_add(&salt, 1) << 40);
}

static pl_status random_prepare(pl_kernel_prep *p, kind k, source src, const char *dtype_attr, pl_dtype dflt) {
    random_op *r = calloc(1, sizeof *r);
    if (!r) return pl_error(PL_RESOURCE_EXHAUSTED, "out of memory");
    r->kind = k;
    r->source = src;
    p->state = r;
    if (src == STATEFUL) {
        pthread_mutex_init(&r->mu, NULL);
        int64_t seed = pl_attr_int_or(p->attrs, "seed", 0), seed2 = pl_attr_int_or(p->attrs, "seed2", 0);
        if (seed == 0 && seed2 == 0) {
            seed = (int64_t)system_seed();
            seed2 = (int64_t)system_seed();
        }
        r->gen = philox_from_seeds((uint64_t)seed, (uint64_t)seed2);
    }
    r->dtype = pl_attr_type_or(p->attrs, dtype_attr, dflt);
    bool ok = k == UNIFORM || k == NORMAL ? float_dtype(r->dtype) : int_dtype(r->dtype, k == FULL_INT);
    if (!ok) return pl_error(PL_INVALID_ARGUMENT, "%s: unsupported dtype %s", p->op, pl_dtype_name(r->dtype));
    return NULL;
}

/* GenerateKey in stateless_random_ops.cc: one Philox block of the seeds
 * under a fixed key scrambles them into the stream's key and counter
 * (int32 seeds are sign-extended first). */
static pl_status generator_from_seed(const pl_tensor *seed, philox *out) {
    char buf[160];
    if (seed->rank != 1 || seed->count != 2 || (seed->dtype != PL_DT_INT32 && seed->dtype != PL_DT_INT64))
        return pl_error(PL_INVALID_ARGUMENT, "seed must have shape [2], not %s",
                        pl_shape_str(seed->rank, seed->dims, buf, sizeof buf));
    uint64_t s0 = (uint64_t)pl_tensor_get_i64(seed, 0), s1 = (uint64_t)pl_tensor_get_i64(seed, 1);
    philox g = {{(uint32_t)s0, (uint32_t)(s0 >> 32), (uint32_t)s1, (uint32_t)(s1 >> 32)}, {0x3ec8f720u, 0x02461e29u}};
    uint32_t mix[4];
    philox_next(&g, mix);
    *out = (philox){{0, 0, mix[2], mix[3]}, {mix[0], mix[1]}};
    return NULL;
}

/* key [1] uint64, counter [2] uint64, alg scalar int32 (1 Philox, 3 auto = Philox on CPU). */
static pl_status generator_from_key_counter(const pl_tensor *key, const pl_tensor *counter, const pl_tensor *alg,
                                            philox *out) {
    char buf[160];
    if (alg->rank != 0 || alg->dtype != PL_DT_INT32)
        return pl_error(PL_INVALID_ARGUMENT, "alg must be a scalar, got shape %s",
                        pl_shape_str(alg->rank, alg->dims, buf, sizeof buf));
    int32_t id = *(const int32_t *)alg->data;
    if (id == 3) id = 1;
    if (id != 1) return pl_error(PL_INVALID_ARGUMENT, "Unsupported algorithm id: %d", id);
    if (key->rank != 1 || key->count != 1 || key->dtype != PL_DT_UINT64)
        return pl_error(PL_INVALID_ARGUMENT, "key must have shape [1], not %s",
                        pl_shape_str(key->rank, key->dims, buf, sizeof buf));
    if (counter->rank != 1 || counter->count < 2 || counter->dtype != PL_DT_UINT64)
        return pl_error(PL_INVALID_ARGUMENT, "counter must be a vector of at least 2 uint64, got shape %s",
                        pl_shape_str(counter->rank, counter->dims, buf, sizeof buf));
    const uint64_t *k = key->data, *c = counter->data;
    *out = (philox){{(uint32_t)c[0], (uint32_t)(c[0] >> 32), (uint32_t)c[1], (uint32_t)(c[1] >> 32)},
                    {(uint32_t)k[0], (uint32_t)(k[0] >> 32)}};
    return NULL;
}

/* Inputs: shape, then (seed | key, counter, alg | nothing), then minval, maxval for UNIFORM_INT. */
static pl_status random_compute(pl_kernel_ctx *c) {
    random_op *r = c->state;
    int next = 1;
    philox g = {{0}, {0}};
    if (r->source == SEED) {
        PL_TRY(generator_from_seed(c->inputs[1], &g));
        next = 2;
    } else if (r->source == KEY_COUNTER) {
        PL_TRY(generator_from_key_counter(c->inputs[1], c->inputs[2], c->inputs[3], &g));
        next = 4;
    }
    dist d = {.kind = r->kind, .dtype = r->dtype};
    if (r->kind == UNIFORM_INT) {
        if (c->num_inputs < next + 2) return pl_error(PL_INVALID_ARGUMENT, "%s: missing minval/maxval", c->node_name);
        PL_TRY(int_range(c->inputs[next], c->inputs[next + 1], &d));
    }
    int rank = 0;
    int64_t dims[PL_MAX_RANK];
    PL_TRY(output_shape(c->inputs[0], &rank, dims));
    pl_tensor *out;
    PL_TRY(pl_ctx_alloc_output(c, 0, r->dtype, rank, dims, &out));
    if (r->source == STATEFUL) {
        /* GuardedPhiloxRandom::ReserveRandomOutputs(count, 256) */
        pthread_mutex_lock(&r->mu);
        g = r->gen;
        philox_skip(&r->gen, (uint64_t)out->count * 256u);
        pthread_mutex_unlock(&r->mu);
    }
    fill(g, &d, out);
    return NULL;
}

#define PREPARE(name, k, src, attr, dflt) \
    static pl_status name(pl_kernel_prep *p) { return random_prepare(p, k, src, attr, dflt); }
PREPARE(uniform_prepare, UNIFORM, STATEFUL, "dtype", PL_DT_FLOAT)
PREPARE(normal_prepare, NORMAL, STATEFUL, "dtype", PL_DT_FLOAT)
PREPARE(uniform_int_prepare, UNIFORM_INT, STATEFUL, "Tout", PL_DT_INT32)
PREPARE(sl_uniform_prepare, UNIFORM, SEED, "dtype", PL_DT_FLOAT)
PREPARE(sl_normal_prepare, NORMAL, SEED, "dtype", PL_DT_FLOAT)
PREPARE(sl_uniform_int_prepare, UNIFORM_INT, SEED, "dtype", PL_DT_INT64)
PREPARE(sl_full_int_prepare, FULL_INT, SEED, "dtype", PL_DT_UINT64)
PREPARE(v2_uniform_prepare, UNIFORM, KEY_COUNTER, "dtype", PL_DT_FLOAT)
PREPARE(v2_normal_prepare, NORMAL, KEY_COUNTER, "dtype", PL_DT_FLOAT)
PREPARE(v2_uniform_int_prepare, UNIFORM_INT, KEY_COUNTER, "dtype", PL_DT_INT64)
PREPARE(v2_full_int_prepare, FULL_INT, KEY_COUNTER, "dtype", PL_DT_UINT64)
#undef PREPARE

/* ---- seeds to keys ---- */

static pl_status key_counter_prepare(pl_kernel_prep *p) {
    int outputs = strcmp(p->op, "StatelessRandomGetKeyCounterAlg") ? 2 : 3;
    if (p->num_outputs < outputs) p->num_outputs = outputs;
    return NULL;
}

static pl_status alg_output(pl_kernel_ctx *c, int i) {
    pl_tensor *t;
    PL_TRY(pl_tensor_scalar(PL_DT_INT32, 1, &t)); /* Philox, the CPU choice */
    pl_ctx_set_output(c, i, t);
    return NULL;
}

static pl_status key_counter_compute(pl_kernel_ctx *c) {
    /* seed -> key [1], counter [2] (uint64)[, alg] */
    philox g;
    PL_TRY(generator_from_seed(c->inputs[0], &g));
    int64_t one = 1, two = 2;
    pl_tensor *key, *counter;
    PL_TRY(pl_ctx_alloc_output(c, 0, PL_DT_UINT64, 1, &one, &key));
    PL_TRY(pl_ctx_alloc_output(c, 1, PL_DT_UINT64, 1, &two, &counter));
    ((uint64_t *)key->data)[0] = g.key[0] | (uint64_t)g.key[1] << 32;
    ((uint64_t *)counter->data)[0] = g.ctr[0] | (uint64_t)g.ctr[1] << 32;
    ((uint64_t *)counter->data)[1] = g.ctr[2] | (uint64_t)g.ctr[3] << 32;
    return c->num_outputs > 2 ? alg_output(c, 2) : NULL;
}

static pl_status get_alg_compute(pl_kernel_ctx *c) {
    return alg_output(c, 0);
}

#define RANDOM(name, prep, fl) \
    {.op = name, .prepare = prep, .compute = random_compute, .release = random_op_free, .flags = fl}
const pl_kernel_def pl_kernels_random[] = {
    RANDOM("RandomUniform", uniform_prepare, PL_KERNEL_STATEFUL),
    RANDOM("RandomStandardNormal", normal_prepare, PL_KERNEL_STATEFUL),
    RANDOM("RandomUniformInt", uniform_int_prepare, PL_KERNEL_STATEFUL),
    RANDOM("StatelessRandomUniform", sl_uniform_prepare, 0),
    RANDOM("StatelessRandomNormal", sl_normal_prepare, 0),
    RANDOM("StatelessRandomUniformInt", sl_uniform_int_prepare, 0),
    RANDOM("StatelessRandomUniformFullInt", sl_full_int_prepare, 0),
    RANDOM("StatelessRandomUniformV2", v2_uniform_prepare, 0),
    RANDOM("StatelessRandomNormalV2", v2_normal_prepare, 0),
    RANDOM("StatelessRandomUniformIntV2", v2_uniform_int_prepare, 0),
    RANDOM("StatelessRandomUniformFullIntV2", v2_full_int_prepare, 0),
    {.op = "StatelessRandomGetKeyCounter", .prepare = key_counter_prepare, .compute = key_counter_compute},
    {.op = "StatelessRandomGetKeyCounterAlg", .prepare = key_counter_prepare, .compute = key_counter_compute},
    {.op = "StatelessRandomGetAlg", .compute = get_alg_compute},
    {0},
};
#undef RANDOM
