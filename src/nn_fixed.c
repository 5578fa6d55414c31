#include "nnmpi/nn_fixed.h"
#include "nnmpi/nn_status.h"

#include <math.h>
#include <string.h>

#define SCALE 1099511627776.0 /* 2^40 */

static int portable_only; /* nn_fixed_set_portable: tests */

void nn_fixed_set_portable(int portable)
{
    portable_only = portable;
}

/* The conversions run over every gradient value of every chunk, so they come twice: the
 * portable loops below, and AVX-512 code (which converts to int64 in vector registers),
 * picked at run time. Both give the same bits. */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_AVX512_CODE 1
#define AVX512 __attribute__((target("avx512f,avx512dq,avx512vl")))
#define HAVE_AVX512() (!portable_only && __builtin_cpu_supports("avx512dq"))
#else
#define HAVE_AVX512_CODE 0
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

/* The same conversion with AVX-512 intrinsics, 16 values at a time in single precision:
 * f = x 2^40 is exact (a power of two; |x| <= limit keeps it below 2^62), its truncation t
 * and f - t are exact, and t moves one away from zero when |f - t| >= 1/2 (exact too:
 * below 2^24 where there is a fraction, integers above): the rounding of add_loop, bit for
 * bit (tests/test_fixed.c compares them on ties, ends and random values). A rejected value
 * (|x| > limit, NaN) becomes 0 before the integer conversion. */
#if HAVE_AVX512_CODE
/* |x| <= limit for a float x is |x| <= the largest float not above limit. */
static float float_limit(double limit)
{
    float f = (float)limit;
    return (double)f > limit ? nextafterf(f, 0.0f) : f;
}

AVX512 static inline int64_t convert16(const float *v, __m512 limit, __m512i *lo, __m512i *hi)
{
    const __m512 scale = _mm512_set1_ps(0x1p40f), half = _mm512_set1_ps(0.5f);
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 x = _mm512_loadu_ps(v);
    __mmask16 ok = _mm512_cmp_ps_mask(_mm512_abs_ps(x), limit, _CMP_LE_OQ); /* NaN: 0 */
    __m512 f = _mm512_mul_ps(x, scale);
    __m512 t = _mm512_roundscale_ps(f, _MM_FROUND_TO_ZERO | _MM_FROUND_NO_EXC);
    __mmask16 away = _mm512_cmp_ps_mask(_mm512_abs_ps(_mm512_sub_ps(f, t)), half, _CMP_GE_OQ);
    __m512 sign_one = _mm512_or_ps(_mm512_and_ps(f, _mm512_set1_ps(-0.0f)), one);
    __m512 r = _mm512_maskz_mov_ps(ok, _mm512_mask_add_ps(t, away, t, sign_one));
    *lo = _mm512_cvttps_epi64(_mm512_castps512_ps256(r));
    *hi = _mm512_cvttps_epi64(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(r), 1)));
    return 16 - __builtin_popcount((unsigned)ok);
}

/* Whole vectors of 16, then the rest as add_loop does it (the same values). */
AVX512 static inline __attribute__((always_inline)) int64_t convert_avx512(
    int64_t *restrict acc, const float *restrict v, size_t n, double limit, int add)
{
    __m512 lim = _mm512_set1_ps(float_limit(limit));
    int64_t rejected = 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512i lo, hi;
        rejected += convert16(v + i, lim, &lo, &hi);
        if (add) {
            lo = _mm512_add_epi64(lo, _mm512_loadu_si512(acc + i));
            hi = _mm512_add_epi64(hi, _mm512_loadu_si512(acc + i + 8));
        }
        _mm512_storeu_si512(acc + i, lo);
        _mm512_storeu_si512(acc + i + 8, hi);
    }
    return rejected + add_loop(acc + i, v + i, n - i, limit, add);
}

AVX512 static int64_t add_avx512(int64_t *restrict acc, const float *restrict v, size_t n,
                                 double limit)
{
    return convert_avx512(acc, v, n, limit, 1);
}

AVX512 static int64_t store_avx512(int64_t *restrict acc, const float *restrict v, size_t n,
                                   double limit)
{
    return convert_avx512(acc, v, n, limit, 0);
}
/* out[i] = the float value of sum_j fixed(rows[j][i]), i < n, the sums in registers. */
AVX512 static int64_t sum_rows_to_float_avx512(const float *const *rows, int n_rows, size_t n,
                                               double limit, float *out)
{
    __m512 lim = _mm512_set1_ps(float_limit(limit));
    const __m512d unscale = _mm512_set1_pd(1.0 / SCALE);
    int64_t rejected = 0;
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __m512i lo = _mm512_setzero_si512(), hi = _mm512_setzero_si512();
        for (int j = 0; j < n_rows; j++) {
            __m512i l, h;
            rejected += convert16(rows[j] + i, lim, &l, &h);
            lo = _mm512_add_epi64(lo, l);
            hi = _mm512_add_epi64(hi, h);
        }
        /* as to_float_loop: (float)((double)q / SCALE), the division by 2^40 exact */
        __m256 flo = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtepi64_pd(lo), unscale));
        __m256 fhi = _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtepi64_pd(hi), unscale));
        _mm256_storeu_ps(out + i, flo);
        _mm256_storeu_ps(out + i + 8, fhi);
    }
    int64_t tail[16] = {0};
    for (int j = 0; j < n_rows; j++) rejected += add_loop(tail, rows[j] + i, n - i, limit, 1);
    to_float_loop(tail, out + i, n - i);
    return rejected;
}
#else
static int64_t add_avx512(int64_t *restrict acc, const float *restrict v, size_t n, double limit)
{
    return add_loop(acc, v, n, limit, 1);
}

static int64_t store_avx512(int64_t *restrict acc, const float *restrict v, size_t n,
                            double limit)
{
    return add_loop(acc, v, n, limit, 0);
}
#endif

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

int64_t nn_fixed_sum_rows(int64_t *restrict acc, const float *const *rows, int n_rows, size_t n,
                          double limit, int add, float *out)
{
    enum { BLOCK = 512 }; /* int64s: 4 KiB of sums */
    NN_ASSERT(acc || (out && !add));
#if HAVE_AVX512_CODE
    if (!acc && HAVE_AVX512()) return sum_rows_to_float_avx512(rows, n_rows, n, limit, out);
#endif
    int64_t rejected = 0, block[BLOCK];
    for (size_t at = 0; at < n; at += BLOCK) {
        size_t len = n - at < BLOCK ? n - at : BLOCK;
        int64_t *sums = acc ? acc + at : block;
        if (n_rows == 0 && !add) memset(sums, 0, sizeof(int64_t) * len);
        for (int j = 0; j < n_rows; j++) {
            const float *v = rows[j] + at;
            if (add || j > 0)
                rejected += nn_fixed_add(sums, v, len, limit);
            else
                rejected += nn_fixed_store(sums, v, len, limit);
        }
        if (out) nn_fixed_to_float(sums, out + at, len);
    }
    return rejected;
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

/* A block's sum of squares d = m 2^(e - 1075) (m < 2^53, e its exponent field) goes to
 * bin e - SQUARES_E0 as m >> 10: bin k counts units of 2^(k - 170). The bins are integers,
 * so they add exactly in any order; every 2^20 blocks they move to the limbs, before they
 * could overflow (2^20 parts below 2^43 each). */
enum {
    SQUARES_E0 = 895, /* the exponent field of 2^-128 */
    SQUARES_BINS = 256, /* up to 2^128 */
    SQUARES_FLUSH = NN_SQUARES_BLOCK << 20 /* values */
};

/* The squares of one block: two per lane, then the lanes in a fixed tree (float squares
 * are exact as doubles; only the additions round). Vector types keep the order fixed and
 * the code vectorised. */
typedef double Double8 __attribute__((vector_size(64)));
typedef float Float8 __attribute__((vector_size(32)));
_Static_assert(NN_SQUARES_BLOCK == 16, "block_squares sums 8 lanes of 2");

static inline double block_squares(const float *v)
{
    Float8 a, b;
    memcpy(&a, v, sizeof a);
    memcpy(&b, v + 8, sizeof b);
    Double8 x = __builtin_convertvector(a, Double8), y = __builtin_convertvector(b, Double8);
    Double8 l = x * x + y * y;
    return ((l[0] + l[1]) + (l[2] + l[3])) + ((l[4] + l[5]) + (l[6] + l[7]));
}

/* Bins the blocks of v[0..n) (n <= SQUARES_FLUSH); returns the blocks left out. */
static int64_t bin_squares(uint64_t bins[SQUARES_BINS], const float *v, size_t n)
{
    int64_t out = 0;
    for (size_t i = 0; i < n; i += NN_SQUARES_BLOCK) {
        double d;
        if (i + NN_SQUARES_BLOCK <= n) {
            d = block_squares(v + i);
        } else { /* a short last block: zeros after it */
            float last[NN_SQUARES_BLOCK] = {0};
            memcpy(last, v + i, sizeof(float) * (n - i));
            d = block_squares(last);
        }
        uint64_t b;
        memcpy(&b, &d, sizeof b);
        unsigned k = (unsigned)(b >> 52 & 0x7ff) - SQUARES_E0; /* wraps below 2^-128 */
        if (k < SQUARES_BINS)
            bins[k] += ((b & ((UINT64_C(1) << 52) - 1)) | UINT64_C(1) << 52) >> 10;
        else
            out += k <= 2047 - SQUARES_E0; /* 2^128 and more, infinite, NaN (of any sign) */
    }
    return out;
}

/* acc += x 2^k in units of 2^-170: x spread over limbs k / 32 .. k / 32 + 2. */
static void add_shifted(int64_t acc[NN_SQUARES_LIMBS], uint64_t x, int k)
{
    int j = k >> 5, o = k & 31;
    acc[j] += (int64_t)(x << o & 0xffffffffu); /* the low 32 bits survive the shift */
    uint64_t rest = x >> (32 - o);            /* the bits above them: < 2^63 */
    acc[j + 1] += (int64_t)(rest & 0xffffffffu);
    acc[j + 2] += (int64_t)(rest >> 32);
}

void nn_fixed_add_squares(int64_t acc[NN_SQUARES_LIMBS], const float *v, size_t n)
{
    uint64_t bins[SQUARES_BINS];
    for (size_t at = 0; at < n; at += SQUARES_FLUSH) {
        size_t len = n - at < SQUARES_FLUSH ? n - at : SQUARES_FLUSH;
        memset(bins, 0, sizeof bins);
        acc[NN_SQUARES_LIMBS - 1] += bin_squares(bins, v + at, len);
        for (int k = 0; k < SQUARES_BINS; k++)
            if (bins[k]) add_shifted(acc, bins[k], k);
    }
}

double nn_fixed_squares_value(const int64_t acc[NN_SQUARES_LIMBS])
{
    if (acc[NN_SQUARES_LIMBS - 1]) return INFINITY;
    /* Limbs hold carries that depend on how the parts were grouped: carried, they are the
     * total's own digits, and the double the same bits for the same total. */
    int64_t digit[NN_SQUARES_LIMBS - 1];
    memcpy(digit, acc, sizeof digit);
    for (int j = 0; j + 1 < NN_SQUARES_LIMBS - 1; j++) {
        digit[j + 1] += digit[j] >> 32;
        digit[j] &= 0xffffffff;
    }
    double sum = 0.0;
    for (int j = NN_SQUARES_LIMBS - 2; j >= 0; j--) sum += ldexp((double)digit[j], 32 * j - 170);
    return sum;
}
