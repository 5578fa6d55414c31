#include "nnmpi/nn_number.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Powers of ten that doubles hold exactly. */
static const double POW10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* strtod on a NUL-terminated copy; the whole text must be used. */
static int slow_path(const char *s, size_t n, double *out)
{
    char copy[128];
    char *heap = NULL, *text = copy;
    if (n >= sizeof copy) {
        heap = malloc(n + 1);
        if (!heap) return -1;
        text = heap;
    }
    memcpy(text, s, n);
    text[n] = '\0';
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    /* Subnormal results (ERANGE, but exact to strtod's rounding) are kept; hexadecimal
     * is not a decimal number. */
    int ok = end == text + n && n > 0 && isfinite(v) && !memchr(text, 'x', n) &&
             !memchr(text, 'X', n);
    free(heap);
    if (!ok) return -1;
    *out = v;
    return 0;
}

int nn_parse_double(const char *s, size_t n, double *out)
{
    /* Fast path (Clinger): an integer mantissa m < 2^53 and a power 10^k, |k| <= 22, are
     * both exact doubles, so m * 10^k or m / 10^-k rounds once: the correctly rounded
     * result. Anything else (hex, long mantissas, big exponents, "nan") goes to strtod. */
    size_t i = 0;
    int negative = 0;
    if (i < n && (s[i] == '-' || s[i] == '+')) negative = s[i++] == '-';
    uint64_t m = 0;
    int digits = 0, scale = 0, seen = 0;
    while (i < n && (unsigned)(s[i] - '0') < 10) {
        if (digits || s[i] != '0') digits++;
        if (digits > 15) return slow_path(s, n, out);
        m = m * 10 + (uint64_t)(s[i++] - '0');
        seen = 1;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && (unsigned)(s[i] - '0') < 10) {
            if (digits || s[i] != '0') digits++;
            if (digits > 15) return slow_path(s, n, out);
            m = m * 10 + (uint64_t)(s[i++] - '0');
            scale--;
            seen = 1;
        }
    }
    if (!seen) return slow_path(s, n, out);
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        int eneg = 0, e = 0, edigits = 0;
        if (i < n && (s[i] == '-' || s[i] == '+')) eneg = s[i++] == '-';
        while (i < n && (unsigned)(s[i] - '0') < 10 && edigits < 4) {
            e = e * 10 + (s[i++] - '0');
            edigits++;
        }
        if (edigits == 0 || edigits == 4) return slow_path(s, n, out);
        scale += eneg ? -e : e;
    }
    if (i != n) return -1; /* trailing text: not a number in any form strtod takes here */
    double v = (double)m;
    if (m != 0) {
        if (scale < -22 || scale > 22) return slow_path(s, n, out);
        v = scale < 0 ? v / POW10[-scale] : v * POW10[scale];
    }
    *out = negative ? -v : v;
    return 0;
}

int nn_parse_float(const char *s, size_t n, float *out)
{
    double v;
    if (nn_parse_double(s, n, &v) != 0) return -1;
    float f = (float)v;
    if (!isfinite(f)) return -1;
    *out = f;
    return 0;
}

int nn_parse_label(const char *s, size_t n, int64_t *out)
{
    double v;
    if (nn_parse_double(s, n, &v) != 0 || v != floor(v) || fabs(v) > 9007199254740992.0)
        return -1;
    *out = (int64_t)v;
    return 0;
}
