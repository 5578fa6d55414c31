#include "nnmpi/nn_vmath.h"

#include <sleef.h>
#include <string.h>

static void rows_scalar(float *a, const float *b, int n)
{
    for (int j = 0; j < n; j++) a[j] = 1.0f / (1.0f + Sleef_expf_u10(-(a[j] + (b ? b[j] : 0.0f))));
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

/* Each path is compiled for its instruction set and picked once, at the first call. */
#define AVX512 __attribute__((target("avx512f")))
#define AVX2 __attribute__((target("avx2,fma")))

enum { LANES_512 = 16, LANES_256 = 8 };

/* sleef.h declares its vector functions only when the whole file is compiled for their
 * instruction set (__AVX512F__, __AVX2__); here only the functions below are: its
 * declarations, for them, with their instruction set (which fixes how the vectors are
 * passed). */
#ifndef __AVX512F__
AVX512 __m512 Sleef_expf16_u10avx512f(__m512);
#endif
#ifndef __AVX2__
AVX2 __m256 Sleef_expf8_u10avx2(__m256);
#endif

AVX512 static inline __m512 sigmoid_avx512(__m512 z)
{
    const __m512 one = _mm512_set1_ps(1.0f);
    __m512 e = Sleef_expf16_u10avx512f(_mm512_sub_ps(_mm512_setzero_ps(), z));
    return _mm512_div_ps(one, _mm512_add_ps(one, e));
}

/* Whole vectors, then the tail padded with zeros through the same code. */
AVX512 static void rows_avx512(float *a, const float *b, int n)
{
    int j = 0;
    for (; j + LANES_512 <= n; j += LANES_512) {
        __m512 z = _mm512_loadu_ps(a + j);
        if (b) z = _mm512_add_ps(z, _mm512_loadu_ps(b + j));
        _mm512_storeu_ps(a + j, sigmoid_avx512(z));
    }
    if (j == n) return;
    float z[LANES_512] = {0}, bias[LANES_512] = {0};
    memcpy(z, a + j, sizeof(float) * (size_t)(n - j));
    if (b) memcpy(bias, b + j, sizeof(float) * (size_t)(n - j));
    _mm512_storeu_ps(z, sigmoid_avx512(_mm512_add_ps(_mm512_loadu_ps(z), _mm512_loadu_ps(bias))));
    memcpy(a + j, z, sizeof(float) * (size_t)(n - j));
}

AVX2 static inline __m256 sigmoid_avx2(__m256 z)
{
    const __m256 one = _mm256_set1_ps(1.0f);
    __m256 e = Sleef_expf8_u10avx2(_mm256_sub_ps(_mm256_setzero_ps(), z));
    return _mm256_div_ps(one, _mm256_add_ps(one, e));
}

AVX2 static void rows_avx2(float *a, const float *b, int n)
{
    int j = 0;
    for (; j + LANES_256 <= n; j += LANES_256) {
        __m256 z = _mm256_loadu_ps(a + j);
        if (b) z = _mm256_add_ps(z, _mm256_loadu_ps(b + j));
        _mm256_storeu_ps(a + j, sigmoid_avx2(z));
    }
    if (j == n) return;
    float z[LANES_256] = {0}, bias[LANES_256] = {0};
    memcpy(z, a + j, sizeof(float) * (size_t)(n - j));
    if (b) memcpy(bias, b + j, sizeof(float) * (size_t)(n - j));
    _mm256_storeu_ps(z, sigmoid_avx2(_mm256_add_ps(_mm256_loadu_ps(z), _mm256_loadu_ps(bias))));
    memcpy(a + j, z, sizeof(float) * (size_t)(n - j));
}

static int cpu_has(NnVmathPath path)
{
    __builtin_cpu_init();
    switch (path) {
    case NN_VMATH_AVX512: return __builtin_cpu_supports("avx512f");
    case NN_VMATH_AVX2: return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    default: return 1;
    }
}
#else
static int cpu_has(NnVmathPath path)
{
    return path == NN_VMATH_SCALAR;
}
#endif

typedef void RowsFn(float *a, const float *b, int n);
static RowsFn *rows;

static RowsFn *path_rows(NnVmathPath path)
{
#if defined(__x86_64__) && defined(__GNUC__)
    if (path == NN_VMATH_AVX512) return rows_avx512;
    if (path == NN_VMATH_AVX2) return rows_avx2;
#endif
    return rows_scalar;
}

int nn_vmath_use(NnVmathPath path)
{
    if (path == NN_VMATH_BEST)
        path = cpu_has(NN_VMATH_AVX512) ? NN_VMATH_AVX512
               : cpu_has(NN_VMATH_AVX2) ? NN_VMATH_AVX2
                                        : NN_VMATH_SCALAR;
    if (!cpu_has(path)) return 0;
    rows = path_rows(path);
    return 1;
}

void nn_vmath_sigmoid(float *a, const float *b, int n)
{
    if (!rows) nn_vmath_use(NN_VMATH_BEST);
    rows(a, b, n);
}
