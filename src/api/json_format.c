/* Numbers to text: TF Serving's WriteDecimal for float and double outputs,
 * rapidjson's Writer::Double for values echoed in error texts, and integers.
 *
 * WriteDecimal (util/json_tensor.cc) prints absl::StrCat(v) -- six
 * significant digits, %g style -- when that reads back to v, and otherwise
 * "%.9g" (float) or "%.17g" (double); ".0" goes on anything with neither '.'
 * nor 'e'. So 0.1f is "0.1", 1e6f is "1e+06", 9e-7f is "9e-07" and pi is
 * "3.14159274". Six digits read back exactly when a six-digit decimal lies in
 * v's rounding interval, and then any correct six-digit rounding finds it; so
 * the fast path below rounds with one exact-enough multiplication and falls
 * back on snprintf whenever the rounding is too close to call. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/json_internal.h"

static const double pow10_d[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
                                   1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
static const float pow10_f[11] = {1e0f, 1e1f, 1e2f, 1e3f, 1e4f, 1e5f, 1e6f, 1e7f, 1e8f, 1e9f, 1e10f};

static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

int pl__json_format_u64(uint64_t v, char *buf) {
    char tmp[20];
    int n = 0;
    while (v >= 100) {
        unsigned r = (unsigned)(v % 100);
        v /= 100;
        tmp[n++] = digit_pairs[2 * r + 1];
        tmp[n++] = digit_pairs[2 * r];
    }
    if (v >= 10) {
        tmp[n++] = digit_pairs[2 * v + 1];
        tmp[n++] = digit_pairs[2 * v];
    } else {
        tmp[n++] = (char)('0' + v);
    }
    for (int i = 0; i < n; i++) buf[i] = tmp[n - 1 - i];
    return n;
}

int pl__json_format_i64(int64_t v, char *buf) {
    if (v >= 0) return pl__json_format_u64((uint64_t)v, buf);
    buf[0] = '-';
    return 1 + pl__json_format_u64(0 - (uint64_t)v, buf + 1);
}

/* Rounds x > 0 to ndig significant digits: *d in [10^(ndig-1), 10^ndig) and
 * x ~ d * 10^(k - ndig + 1). false when the scaling is not exact enough to
 * decide (x far from 1, or a near tie). */
static bool round_digits(double x, int ndig, uint64_t *d, int *k) {
    int e2;
    frexp(x, &e2);
    int kk = (int)floor((e2 - 1) * 0.30102999566398120);
    for (int iter = 0; iter < 3; iter++) {
        int p = ndig - 1 - kk;
        double scaled;
        if (p >= 0 && p <= 22) {
            scaled = x * pow10_d[p];
        } else if (p < 0 && p >= -22) {
            scaled = x / pow10_d[-p];
        } else {
            return false;
        }
        double lo = pow10_d[ndig - 1], hi = pow10_d[ndig];
        if (scaled < lo) {
            kk--;
            continue;
        }
        if (scaled >= hi) {
            kk++;
            continue;
        }
        double fl = floor(scaled), frac = scaled - fl;
        /* One rounded operation puts scaled within half an ulp (< 1.2e-7
         * below 1e9) of the exact product; closer than this to a tie, the
         * exact rounding is left to snprintf. */
        if (fabs(frac - 0.5) < 1e-6) return false;
        uint64_t r = (uint64_t)fl + (frac > 0.5);
        if (r == (uint64_t)hi) {
            r /= 10;
            kk++;
        }
        *d = r;
        *k = kk;
        return true;
    }
    return false;
}

/* printf("%.<prec>g") of d * 10^(k - ndig + 1), d having exactly ndig digits. */
static int format_g(char *buf, uint64_t d, int ndig, int k, int prec) {
    char digits[24];
    int i = ndig;
    while (i >= 2) {
        unsigned r = (unsigned)(d % 100);
        d /= 100;
        digits[--i] = digit_pairs[2 * r + 1];
        digits[--i] = digit_pairs[2 * r];
    }
    if (i) digits[0] = (char)('0' + d);
    while (ndig > 1 && digits[ndig - 1] == '0') ndig--;
    char *p = buf;
    if (k < -4 || k >= prec) {
        *p++ = digits[0];
        if (ndig > 1) {
            *p++ = '.';
            memcpy(p, digits + 1, (size_t)ndig - 1);
            p += ndig - 1;
        }
        *p++ = 'e';
        int e = k;
        if (e < 0) {
            *p++ = '-';
            e = -e;
        } else {
            *p++ = '+';
        }
        if (e >= 100) {
            *p++ = (char)('0' + e / 100);
            e %= 100;
        }
        *p++ = digit_pairs[2 * e];
        *p++ = digit_pairs[2 * e + 1];
    } else if (k >= 0) {
        int int_digits = k + 1;
        for (int i = 0; i < int_digits; i++) *p++ = i < ndig ? digits[i] : '0';
        if (ndig > int_digits) {
            *p++ = '.';
            memcpy(p, digits + int_digits, (size_t)(ndig - int_digits));
            p += ndig - int_digits;
        }
    } else {
        *p++ = '0';
        *p++ = '.';
        for (int i = 0; i < -k - 1; i++) *p++ = '0';
        memcpy(p, digits, (size_t)ndig);
        p += ndig;
    }
    return (int)(p - buf);
}

/* Appends ".0" when the text has neither '.' nor 'e' (WriteDecimal). */
static int add_point_zero(char *buf, int n) {
    for (int i = 0; i < n; i++)
        if (buf[i] == '.' || buf[i] == 'e') return n;
    buf[n] = '.';
    buf[n + 1] = '0';
    return n + 2;
}

static int format_special(double v, char *buf) {
    const char *s = isnan(v) ? "NaN" : v < 0 ? "-Infinity" : "Infinity";
    size_t n = strlen(s);
    memcpy(buf, s, n);
    return (int)n;
}

static int snprintf_g(char *buf, int prec, double v) {
    char tmp[64];
    int n = snprintf(tmp, sizeof tmp, "%.*g", prec, v);
    memcpy(buf, tmp, (size_t)n);
    return n;
}

/* The reference route, used when the fast one cannot decide. */
static int format_float_slow(float v, char *buf) {
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.6g", (double)v);
    int n;
    if (strtof(tmp, NULL) == v) {
        n = (int)strlen(tmp);
        memcpy(buf, tmp, (size_t)n);
    } else {
        n = snprintf_g(buf, 9, (double)v);
    }
    return add_point_zero(buf, n);
}

int pl__json_format_float(float v, char *buf) {
    if (!isfinite(v)) return format_special(v, buf);
    char *p = buf;
    if (signbit(v)) *p++ = '-';
    float av = fabsf(v);
    double x = av;
    if (x == 0) {
        memcpy(p, "0.0", 3);
        return (int)(p - buf) + 3;
    }
    /* One scaling to nine digits serves both candidates: x * 10^(8-k) lies in
     * [1e8, 1e9) and is within 6e-8 of exact (one rounded operation), far
     * inside the 1e-6 margin kept from every rounding tie. */
    uint64_t bits;
    memcpy(&bits, &x, sizeof bits);
    int e2 = (int)((bits >> 52) & 0x7ff) - 1023;
    int k = (e2 * 315653) >> 20; /* floor(e2 * log10(2)), off by at most one */
    double s9 = 0;
    for (int iter = 0;; iter++) {
        int q = 8 - k;
        if (iter == 3 || q < -22 || q > 22) return format_float_slow(v, buf);
        s9 = q >= 0 ? x * pow10_d[q] : x / pow10_d[-q];
        if (s9 < 1e8) {
            k--;
        } else if (s9 >= 1e9) {
            k++;
        } else {
            break;
        }
    }
    uint32_t whole = (uint32_t)s9;
    double frac = s9 - whole;
    /* Six digits first: they win when they read back as v. */
    double r = (double)(whole % 1000) + frac;
    if (fabs(r - 500) < 1e-6) return format_float_slow(v, buf);
    uint32_t d6 = whole / 1000 + (r > 500);
    int k6 = k;
    if (d6 == 1000000) {
        d6 = 100000;
        k6++;
    }
    int q6 = k6 - 5;
    if (q6 < -10 || q6 > 10) return format_float_slow(v, buf);
    /* d6 < 2^24 and |q6| <= 10: one float operation rounds d6 * 10^q6 the
     * way strtof does. */
    float back = q6 < 0 ? (float)d6 / pow10_f[-q6] : (float)d6 * pow10_f[q6];
    int n;
    if (back == av) {
        n = format_g(p, d6, 6, k6, 6);
    } else {
        if (fabs(frac - 0.5) < 1e-6) return format_float_slow(v, buf);
        uint32_t d9 = whole + (frac > 0.5);
        int k9 = k;
        if (d9 == 1000000000) {
            d9 = 100000000;
            k9++;
        }
        n = format_g(p, d9, 9, k9, 9);
    }
    n += (int)(p - buf);
    return add_point_zero(buf, n);
}

static int format_double_slow(double v, char *buf) {
    char tmp[64];
    snprintf(tmp, sizeof tmp, "%.6g", v);
    int n;
    if (strtod(tmp, NULL) == v) {
        n = (int)strlen(tmp);
        memcpy(buf, tmp, (size_t)n);
    } else {
        n = snprintf_g(buf, 17, v);
    }
    return add_point_zero(buf, n);
}

int pl__json_format_double(double v, char *buf) {
    if (!isfinite(v)) return format_special(v, buf);
    char *p = buf;
    if (signbit(v)) *p++ = '-';
    double x = fabs(v);
    if (x == 0) {
        memcpy(p, "0.0", 3);
        return (int)(p - buf) + 3;
    }
    uint64_t d;
    int k;
    if (!round_digits(x, 6, &d, &k)) return format_double_slow(v, buf);
    int q = k - 5;
    if (q < -22 || q > 22) return format_double_slow(v, buf);
    /* d < 2^53 and |q| <= 22: one double operation is strtod's answer. */
    double back = q < 0 ? (double)d / pow10_d[-q] : (double)d * pow10_d[q];
    if (back != x) return format_double_slow(v, buf);
    int n = format_g(p, d, 6, k, 6) + (int)(p - buf);
    return add_point_zero(buf, n);
}

/* rapidjson's WriteExponent. */
static char *write_exponent(int k, char *p) {
    if (k < 0) {
        *p++ = '-';
        k = -k;
    }
    if (k >= 100) {
        *p++ = (char)('0' + k / 100);
        k %= 100;
        *p++ = digit_pairs[2 * k];
        *p++ = digit_pairs[2 * k + 1];
    } else if (k >= 10) {
        *p++ = digit_pairs[2 * k];
        *p++ = digit_pairs[2 * k + 1];
    } else {
        *p++ = (char)('0' + k);
    }
    return p;
}

int pl__json_format_double_rapidjson(double v, char *buf) {
    char *p = buf;
    if (v == 0) {
        if (signbit(v)) *p++ = '-';
        memcpy(p, "0.0", 3);
        return (int)(p - buf) + 3;
    }
    if (v < 0) {
        *p++ = '-';
        v = -v;
    }
    /* Shortest digits that read back (Grisu2 finds these in all but rare
     * cases), then rapidjson's Prettify with maxDecimalPlaces 324. */
    char tmp[40];
    int prec;
    for (prec = 1; prec < 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
        if (strtod(tmp, NULL) == v) break;
    }
    snprintf(tmp, sizeof tmp, "%.*e", prec - 1, v);
    char digits[20];
    int length = 0;
    const char *s = tmp;
    for (; *s && *s != 'e'; s++)
        if (*s >= '0' && *s <= '9') digits[length++] = *s;
    int exp10 = atoi(s + 1);
    while (length > 1 && digits[length - 1] == '0') length--;
    int kk = exp10 + 1; /* 10^(kk-1) <= v < 10^kk */
    int k = kk - length;
    if (0 <= k && kk <= 21) {
        memcpy(p, digits, (size_t)length);
        for (int i = length; i < kk; i++) p[i] = '0';
        p[kk] = '.';
        p[kk + 1] = '0';
        p += kk + 2;
    } else if (0 < kk && kk <= 21) {
        memcpy(p, digits, (size_t)kk);
        p[kk] = '.';
        memcpy(p + kk + 1, digits + kk, (size_t)(length - kk));
        p += length + 1;
    } else if (-6 < kk && kk <= 0) {
        *p++ = '0';
        *p++ = '.';
        for (int i = 0; i < -kk; i++) *p++ = '0';
        memcpy(p, digits, (size_t)length);
        p += length;
    } else if (length == 1) {
        *p++ = digits[0];
        *p++ = 'e';
        p = write_exponent(kk - 1, p);
    } else {
        *p++ = digits[0];
        *p++ = '.';
        memcpy(p, digits + 1, (size_t)length - 1);
        p += length - 1;
        *p++ = 'e';
        p = write_exponent(kk - 1, p);
    }
    return (int)(p - buf);
}
