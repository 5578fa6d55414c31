#include "nnmpi/nn_fixed.h"

#include <math.h>
#include <string.h>

#define SCALE 1099511627776.0 /* 2^40 */

/* The conversions run over every gradient value of every chunk, so each loop is compiled
 * twice: for any x86-64, and with AVX-512 (which converts doubles to int64 in vector
 * registers), picked at run time. Both do the same IEEE operations and give the same bits. */
#if defined(__x86_64__) && defined(__GNUC__)
#define AVX512 __attribute__((target("avx512f,avx512dq,avx512vl")))
#define HAVE_AVX512() __builtin_cpu_supports("avx512dq")
#else
#define AVX512
#define HAVE_AVX512() 0
#endif

/* acc[i] (+)= fixed(v[i]): adds when `add`, else stores (a constant in every caller). */
static inline __attribute__((always_inline)) int64_t add_loop(int64_t *restrict acc,
                                                              const float *restrict v,
                                                              size_t n, double limit, int add)
{
    int64_t rejected = 0;
    for (size_t i = 0; i < n; i++) {
        double x = v[i];           /* exact; x * SCALE is exact too */
        int ok = fabs(x) <= limit; /* false for NaN */
        rejected += !ok;
        /* Round half away from zero; a rejected value counts as 0. */
        int64_t q = (int64_t)(ok ? x * SCALE + copysign(0.5, x) : 0.0);
        acc[i] = add ? acc[i] + q : q;
    }
    return rejected;
}

static inline __attribute__((always_inline)) void to_float_loop(const int64_t *restrict q,
                                                                float *restrict out, size_t n)
{
    for (size_t i = 0; i < n; i++) out[i] = (float)((double)q[i] / SCALE);
}

AVX512 static int64_t add_avx512(int64_t *restrict acc, const float *restrict v, size_t n,
                                 double limit)
{
    return add_loop(acc, v, n, limit, 1);
}

AVX512 static int64_t store_avx512(int64_t *restrict acc, const float *restrict v, size_t n,
                                   double limit)
{
    return add_loop(acc, v, n, limit, 0);
}

AVX512 static void to_float_avx512(const int64_t *restrict q, float *restrict out, size_t n)
{
    to_float_loop(q, out, n);
}

double nn_fixed_limit(int64_t max_terms)
{
    return ldexp(1.0, 62 - NN_FIXED_FRACTION_BITS) / (double)(max_terms > 0 ? max_terms : 1);
}

int64_t nn_fixed_add(int64_t *restrict acc, const float *restrict v, size_t n, double limit)
{
    return HAVE_AVX512() ? add_avx512(acc, v, n, limit) : add_loop(acc, v, n, limit, 1);
}

int64_t nn_fixed_store(int64_t *restrict acc, const float *restrict v, size_t n, double limit)
{
    return HAVE_AVX512() ? store_avx512(acc, v, n, limit) : add_loop(acc, v, n, limit, 0);
}

int64_t nn_fixed_add_double(int64_t *acc, double v, double limit)
{
    if (!(fabs(v) <= limit)) return 1;
    *acc += (int64_t)(v * SCALE + copysign(0.5, v)); /* as nn_fixed_add */
    return 0;
}

double nn_fixed_to_double(int64_t q)
{
    return (double)q / SCALE;
}

void nn_fixed_to_float(const int64_t *restrict q, float *restrict out, size_t n)
{
    if (HAVE_AVX512())
        to_float_avx512(q, out, n);
    else
        to_float_loop(q, out, n);
}

void nn_fixed_add_squares(int64_t acc[NN_SQUARES_LIMBS], const float *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, &v[i], sizeof b);
        uint32_t e = b >> 23 & 0xff; /* v = m 2^(e - 150), m < 2^24, for e >= 1 */
        if (e <= 62) continue;       /* |v| < 2^-64 (zeros and subnormals too) */
        if (e > 190) {               /* NaN, infinite, |v| >= 2^64 */
            acc[NN_SQUARES_LIMBS - 1]++;
            continue;
        }
        uint64_t m = (b & 0x7fffff) | 0x800000, sq = m * m; /* < 2^48 */
        int s = 2 * (int)e - 172; /* v^2 = sq 2^s in units of 2^-128: s in -46 .. 208 */
        if (s < 0) {
            sq >>= -s;
            s = 0;
        }
        int j = s >> 5, o = s & 31;               /* sq 2^o from limb j on: j <= 6 */
        acc[j] += (int64_t)(sq << o & 0xffffffffu); /* the low 32 bits survive the shift */
        uint64_t rest = sq >> (32 - o);           /* the bits above them: < 2^47 */
        acc[j + 1] += (int64_t)(rest & 0xffffffffu);
        acc[j + 2] += (int64_t)(rest >> 32);
    }
}

double nn_fixed_squares_value(const int64_t acc[NN_SQUARES_LIMBS])
{
    if (acc[NN_SQUARES_LIMBS - 1]) return INFINITY;
    double sum = 0.0;
    for (int j = NN_SQUARES_LIMBS - 2; j >= 0; j--) sum += ldexp((double)acc[j], 32 * j - 128);
    return sum;
}
