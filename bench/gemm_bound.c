/* The GEMM bound: times the sgemm calls of one training step of an MLP alone (the same
 * shapes and order as nn_model_forward and nn_model_backward) and reports the samples per
 * second they would allow on one core.
 *   nn-mpi-gemm-bound SIZES ROWS [SECONDS]
 *   nn-mpi-gemm-bound 784,512,512,10 128 2
 * SIZES: inputs, hidden..., outputs; ROWS: the samples one rank computes per step. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_LAYERS 17

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float *filled(size_t n)
{
    float *p = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(1);
    }
    for (size_t i = 0; i < n; i++) p[i] = (float)((i * 7919 % 1000) / 1000.0 - 0.5);
    return p;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: nn-mpi-gemm-bound SIZES ROWS [SECONDS]\n");
        return 2;
    }
    int sizes[MAX_LAYERS + 1], n = 0;
    for (char *p = argv[1]; *p && n <= MAX_LAYERS; p++) {
        sizes[n++] = (int)strtol(p, &p, 10);
        if (*p != ',') break;
    }
    int rows = atoi(argv[2]);
    double seconds = argc > 3 ? atof(argv[3]) : 2.0;
    if (n < 2 || rows < 1) {
        fprintf(stderr, "nn-mpi-gemm-bound: bad sizes or rows\n");
        return 2;
    }
    openblas_set_num_threads(1);
    int layers = n - 1;
    float *w[MAX_LAYERS], *dw[MAX_LAYERS], *act[MAX_LAYERS + 1], *delta[MAX_LAYERS + 1];
    double flops = 0;
    act[0] = filled((size_t)rows * sizes[0]);
    for (int l = 0; l < layers; l++) {
        int in = sizes[l], out = sizes[l + 1];
        w[l] = filled((size_t)out * in);
        dw[l] = filled((size_t)out * in);
        act[l + 1] = filled((size_t)rows * out);
        delta[l + 1] = filled((size_t)rows * out);
        flops += 2.0 * rows * in * out * (l ? 3 : 2); /* forward, dW, and dX above layer 0 */
    }
    delta[0] = NULL;
    long steps = 0;
    double start = now(), elapsed;
    do {
        for (int l = 0; l < layers; l++) /* act[l+1] = act[l] W^T */
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, sizes[l + 1], sizes[l],
                        1.0f, act[l], sizes[l], w[l], sizes[l], 0.0f, act[l + 1], sizes[l + 1]);
        for (int l = layers - 1; l >= 0; l--) {
            /* dW = delta^T act[l] */
            cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, sizes[l + 1], sizes[l], rows,
                        1.0f, delta[l + 1], sizes[l + 1], act[l], sizes[l], 0.0f, dw[l],
                        sizes[l]);
            if (l > 0) /* delta[l] = delta[l+1] W */
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, sizes[l],
                            sizes[l + 1], 1.0f, delta[l + 1], sizes[l + 1], w[l], sizes[l],
                            0.0f, delta[l], sizes[l]);
        }
        steps++;
        elapsed = now() - start;
    } while (elapsed < seconds);
    double per_step = elapsed / (double)steps;
    printf("gemm_bound sizes %s rows %d: %.0f samples/s, %.1f GFLOP/s, %.3f ms per step "
           "(%s)\n",
           argv[1], rows, rows / per_step, flops / per_step * 1e-9, per_step * 1e3,
           openblas_get_corename());
    return 0;
}
