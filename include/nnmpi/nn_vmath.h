/* The logistic sigmoid over rows of floats, its exponential vectorised with SLEEF (Debian's
 * libsleef-dev: Sleef_expf16_u10 with AVX-512, Sleef_expf8_u10 with AVX2, else the scalar
 * Sleef_expf_u10; each within 1.0 ULP of exp, as SLEEF documents them). Every element goes
 * through the same vector code (a short tail is padded to a whole vector), and SLEEF's
 * functions work on each lane alone, so an element's result depends only on its value: not
 * on the row's length, its place in the row or the rank that computes it, which keeps
 * reproducible mode's bits. The bits can differ between CPUs that take different paths, as
 * BLAS kernels do (README, "Bitwise reproducibility": the same CPU type on every rank). */
#ifndef NNMPI_NN_VMATH_H
#define NNMPI_NN_VMATH_H

/* a[j] = 1 / (1 + exp(-(a[j] + b[j]))) for j < n: the sigmoid of a plus the bias b (NULL:
 * none). */
void nn_vmath_sigmoid(float *a, const float *b, int n);

/* The code paths: the best this CPU runs (the default), or one named, for tests that
 * check each path. */
typedef enum { NN_VMATH_BEST, NN_VMATH_AVX512, NN_VMATH_AVX2, NN_VMATH_SCALAR } NnVmathPath;

/* Makes nn_vmath_sigmoid take `path` from now on; returns 0 (and changes nothing) when this
 * CPU cannot run it. Not thread-safe: call it before any sigmoid runs, or in tests. */
int nn_vmath_use(NnVmathPath path);

#endif
