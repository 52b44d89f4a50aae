/* JSON numbers to values: rapidjson 1.1.0's grammar, error offsets and
 * integer typing, with the double computed exactly (correctly rounded):
 * Clinger's fast path, then Eisel-Lemire, then strtod for the rare rest.
 * rapidjson itself (without kParseFullPrecisionFlag, as TF Serving parses)
 * may be a unit in the last place off; plinth reads what the client wrote. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "api/json_internal.h"

const double pl__json_exact_pow10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* 64x64 -> 128-bit product: the compiler's 128-bit type where there is one,
 * portable halves otherwise. */
static inline void mul64(uint64_t a, uint64_t b, uint64_t *hi, uint64_t *lo) {
#ifdef __SIZEOF_INT128__
    __extension__ unsigned __int128 p = (unsigned __int128)a * b;
    *hi = (uint64_t)(p >> 64);
    *lo = (uint64_t)p;
#else
    uint64_t a0 = (uint32_t)a, a1 = a >> 32, b0 = (uint32_t)b, b1 = b >> 32;
    uint64_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint64_t mid = (p00 >> 32) + (uint32_t)p01 + (uint32_t)p10;
    *lo = (mid << 32) | (uint32_t)p00;
    *hi = p11 + (p01 >> 32) + (p10 >> 32) + (mid >> 32);
#endif
}

static inline int clz64(uint64_t x) {
#ifdef __GNUC__
    return __builtin_clzll(x);
#else
    int n = 0;
    while (!(x & 0x8000000000000000ull)) {
        x <<= 1;
        n++;
    }
    return n;
#endif
}

/* Eisel-Lemire (as in Go's strconv): man * 10^e10 for man != 0; false when
 * the result is ambiguous, subnormal or out of range, for the caller to fall
 * back on. */
static bool eisel_lemire(uint64_t man, int e10, double *out) {
    if (e10 < PL__JSON_POW10_MIN || e10 >= PL__JSON_POW10_MIN + PL__JSON_POW10_COUNT) return false;
    const uint64_t *pow = pl__json_pow10_128[e10 - PL__JSON_POW10_MIN];
    int clz = clz64(man);
    man <<= clz;
    uint64_t ret_exp2 = (uint64_t)(((217706 * e10) >> 16) + 64 + 1023) - (uint64_t)clz;
    uint64_t x_hi, x_lo;
    mul64(man, pow[1], &x_hi, &x_lo);
    if ((x_hi & 0x1ff) == 0x1ff && x_lo + man < man) {
        uint64_t y_hi, y_lo;
        mul64(man, pow[0], &y_hi, &y_lo);
        uint64_t merged_hi = x_hi, merged_lo = x_lo + y_hi;
        if (merged_lo < x_lo) merged_hi++;
        if ((merged_hi & 0x1ff) == 0x1ff && merged_lo + 1 == 0 && y_lo + man < man) return false;
        x_hi = merged_hi;
        x_lo = merged_lo;
    }
    uint64_t msb = x_hi >> 63;
    uint64_t mant = x_hi >> (msb + 9);
    ret_exp2 -= 1 ^ msb;
    if (x_lo == 0 && (x_hi & 0x1ff) == 0 && (mant & 3) == 1) return false;
    mant += mant & 1;
    mant >>= 1;
    if (mant >> 53) {
        mant >>= 1;
        ret_exp2++;
    }
    if (ret_exp2 - 1 >= 0x7ff - 1) return false;
    uint64_t bits = ret_exp2 << 52 | (mant & 0x000fffffffffffffull);
    double d;
    memcpy(&d, &bits, sizeof d);
    *out = d;
    return true;
}

static double slow_strtod(const char *text, const char *end) {
    size_t n = (size_t)(end - text);
    char small[128], *buf = n < sizeof small ? small : malloc(n + 1);
    if (!buf) return NAN; /* out of memory: the caller's value check reports it */
    memcpy(buf, text, n);
    buf[n] = 0;
    double d = strtod(buf, NULL);
    if (buf != small) free(buf);
    return d;
}

double pl__json_decimal_to_double(uint64_t w, int e10, bool truncated, const char *text, const char *text_end) {
    if (w == 0) return 0.0;
    if (!truncated) {
        if (w <= (1ull << 53) && e10 >= -22 && e10 <= 22) {
            double d = (double)w;
            return e10 < 0 ? d / pl__json_exact_pow10[-e10] : d * pl__json_exact_pow10[e10];
        }
        double r;
        if (eisel_lemire(w, e10, &r)) return r;
    } else {
        /* The true significand lies between w and w + 1 (in the last kept
         * digit): if both round alike, so does everything between. */
        double a, b;
        if (eisel_lemire(w, e10, &a) && eisel_lemire(w + 1, e10, &b) && a == b) return a;
    }
    double d = slow_strtod(text, text_end);
    return d < 0 ? -d : d;
}

static inline bool is_digit(char ch) { return ch >= '0' && ch <= '9'; }

/* rapidjson's kParseErrorNumberTooBig depends on how its normal-precision
 * parser consumed digits, so it is replayed literally for the few numbers
 * that can reach it: integers beyond 64 bits and exponents above 308. */
static bool rapidjson_number_too_big(const char *s) {
    bool minus = *s == '-';
    s += minus;
    unsigned i = 0;
    uint64_t i64 = 0;
    bool use64bit = false, use_double = false;
    int significand_digit = 0;
    double d = 0;
    if (*s == '0') {
        s++;
    } else if (*s >= '1' && *s <= '9') {
        i = (unsigned)(*s++ - '0');
        while (is_digit(*s)) {
            if (i >= (minus ? 214748364u : 429496729u) && (i != (minus ? 214748364u : 429496729u) || *s > (minus ? '8' : '5'))) {
                i64 = i;
                use64bit = true;
                break;
            }
            i = i * 10 + (unsigned)(*s++ - '0');
            significand_digit++;
        }
    } else {
        return false; /* NaN / Infinity: never too big */
    }
    if (use64bit) {
        uint64_t lim = minus ? 0x0CCCCCCCCCCCCCCCull : 0x1999999999999999ull;
        while (is_digit(*s)) {
            if (i64 >= lim && (i64 != lim || *s > (minus ? '8' : '5'))) {
                d = (double)i64;
                use_double = true;
                break;
            }
            i64 = i64 * 10 + (unsigned)(*s++ - '0');
            significand_digit++;
        }
    }
    if (use_double) {
        while (is_digit(*s)) {
            if (d >= 1.7976931348623157e307) return true;
            d = d * 10 + (*s++ - '0');
        }
    }
    int exp_frac = 0;
    if (*s == '.') {
        s++;
        if (!use_double) {
            if (!use64bit) i64 = i;
            while (is_digit(*s)) {
                if (i64 > 0x1FFFFFFFFFFFFFull) break;
                i64 = i64 * 10 + (unsigned)(*s++ - '0');
                --exp_frac;
                if (i64 != 0) significand_digit++;
            }
            d = (double)i64;
            use_double = true;
        }
        while (is_digit(*s)) {
            if (significand_digit < 17) {
                d = d * 10.0 + (*s++ - '0');
                --exp_frac;
                if (d > 0.0) significand_digit++;
            } else {
                s++;
            }
        }
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+') {
            s++;
        } else if (*s == '-') {
            return false;
        }
        int exp = 0, max_exp = 308 - exp_frac;
        while (is_digit(*s)) {
            exp = exp * 10 + (*s++ - '0');
            if (exp > max_exp) return true;
        }
    }
    return false;
}

/* rapidjson's NaN / Inf / Infinity after an optional '-', quirks included
 * ("NInf" is infinity). *sp is at 'N' or 'I'. */
static bool parse_nan_inf(pl__json_cur *c, const char **sp, bool neg, double *value) {
    const char *s = *sp;
#define CONSUME(ch) (*s == (ch) ? (s++, 1) : 0)
    if (CONSUME('N') && CONSUME('a') && CONSUME('N')) {
        *value = NAN;
    } else if (CONSUME('I') && CONSUME('n') && CONSUME('f')) {
        *value = neg ? -INFINITY : INFINITY;
        if (*s == 'i' && !(CONSUME('i') && CONSUME('n') && CONSUME('i') && CONSUME('t') && CONSUME('y')))
            return pl__json_fail(c, PL__JSON_ERR_VALUE_INVALID, s);
    } else {
        return pl__json_fail(c, PL__JSON_ERR_VALUE_INVALID, s);
    }
#undef CONSUME
    *sp = s;
    return true;
}

/* The digits of a number, gathered for the conversion. */
typedef struct digits {
    uint64_t mag;     /* the integer part, when it fits */
    bool overflow;    /* the integer part does not fit rapidjson's 64-bit integers */
    uint64_t w;       /* the first 19 significant digits */
    int nd;           /* digits in w */
    int e10;          /* value = w * 10^e10 (before the dropped digits) */
    bool truncated;   /* non-zero digits were dropped */
} digits;

/* The integer part, *s at its first digit (1-9). */
static const char *integer_part(const char *s, bool neg, digits *g) {
    const char *start = s;
    do {
        unsigned dgt = (unsigned)(*s - '0');
        if (g->mag > (UINT64_MAX - dgt) / 10) g->overflow = true;
        g->mag = g->mag * 10 + dgt;
        s++;
    } while (is_digit(*s));
    size_t n = (size_t)(s - start);
    if (n <= 19) {
        g->w = g->mag;
        g->nd = (int)n;
    } else {
        /* Keep 19 significant digits; the rest only scale. */
        for (int k = 0; k < 19; k++) g->w = g->w * 10 + (unsigned)(start[k] - '0');
        g->nd = 19;
        g->e10 = (int)(n - 19 > 100000 ? 100000 : n - 19);
        for (size_t k = 19; k < n; k++)
            if (start[k] != '0') g->truncated = true;
    }
    if (neg && g->mag > 0x8000000000000000ull) g->overflow = true;
    return s;
}

/* The digits after '.', *s at the first of them. */
static const char *fraction_part(const char *s, digits *g) {
    do {
        unsigned dgt = (unsigned)(*s - '0');
        if (g->nd == 0 && dgt == 0) {
            if (g->e10 > -100000) g->e10--;  /* leading zeros only scale */
        } else if (g->nd < 19) {
            g->w = g->w * 10 + dgt;
            g->nd++;
            g->e10--;
        } else if (dgt) {
            g->truncated = true;
        }
        s++;
    } while (is_digit(*s));
    return s;
}

bool pl__json_parse_number(pl__json_cur *c, pl__json_num *out) {
    const char *start = c->p, *s = start;
    bool neg = *s == '-';
    s += neg;
    const char *digits_start = s; /* what strtod reads on the slow path */
    digits g = {0};
    bool is_int = true, nan_inf = false;
    double special = 0;
    if (*s == '0') {
        s++;
    } else if (*s >= '1' && *s <= '9') {
        s = integer_part(s, neg, &g);
    } else if (*s == 'N' || *s == 'I') {
        if (!parse_nan_inf(c, &s, neg, &special)) return false;
        nan_inf = true;
        is_int = false;
    } else {
        return pl__json_fail(c, PL__JSON_ERR_VALUE_INVALID, s);
    }
    if (*s == '.') {
        s++;
        if (!is_digit(*s)) return pl__json_fail(c, PL__JSON_ERR_NUMBER_MISS_FRACTION, s);
        /* After NaN or Infinity rapidjson starts again from 0: "NaN.5" is 0.5. */
        if (nan_inf) digits_start = s - 1;
        nan_inf = is_int = false;
        s = fraction_part(s, &g);
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (nan_inf) digits_start = s; /* w is 0: the value is 0 whatever follows */
        nan_inf = is_int = false;
        bool eneg = *s == '-';
        if (*s == '+' || *s == '-') s++;
        if (!is_digit(*s)) return pl__json_fail(c, PL__JSON_ERR_NUMBER_MISS_EXPONENT, s);
        int ex = 0;
        do {
            if (ex < 1000000) ex = ex * 10 + (*s - '0');
            s++;
        } while (is_digit(*s));
        if (!eneg && ex > 308 && rapidjson_number_too_big(start))
            return pl__json_fail(c, PL__JSON_ERR_NUMBER_TOO_BIG, start);
        g.e10 += eneg ? -ex : ex;
    }
    if (g.overflow && rapidjson_number_too_big(start)) return pl__json_fail(c, PL__JSON_ERR_NUMBER_TOO_BIG, start);
    c->p = s;
    out->neg = neg;
    out->is_int = is_int && !g.overflow;
    out->mag = out->is_int ? g.mag : 0;
    if (nan_inf) {
        out->d = special;
    } else if (out->is_int) {
        /* rapidjson stores "-0" as the integer 0, so it reads back as +0.0. */
        out->d = neg && g.mag ? -(double)g.mag : (double)g.mag;
    } else {
        double d = pl__json_decimal_to_double(g.w, g.e10, g.truncated, digits_start, s);
        out->d = neg ? -d : d;
    }
    return true;
}
