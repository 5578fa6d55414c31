/* What clipping and augmentation add to one rank's training step, timed alone on one core
 * (warm-up adds nothing measurable: one multiplication of the rate):
 * - [train] clip_grad_norm: the exact sum of squares of the rank's slice of the gradient
 *   (nn_fixed_add_squares, as nn_trainer.c calls it) and its value; the step's one small
 *   MPI_Allreduce over the node is not included;
 * - [data] augment: decoding the rank's part of a batch of MNIST-shaped uint8 records
 *   (784 pixels and a label) with and without the shift (nn_augment_record, as
 *   nn_exchange_batch calls it).
 *   nn-mpi-step-extras [PARAMS [BATCH [RANKS [SECONDS]]]]
 *   nn-mpi-step-extras 535818 128 2 1     (configs/mnist.ini's network at -np 2) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nnmpi/nn_augment.h"
#include "nnmpi/nn_fixed.h"
#include "nnmpi/nn_preprocess.h"

enum { SIDE = 28, PIXELS = SIDE * SIDE, RECORD = PIXELS + 1 };

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    long params = argc > 1 ? atol(argv[1]) : 535818, batch = argc > 2 ? atol(argv[2]) : 128;
    long ranks = argc > 3 ? atol(argv[3]) : 2;
    double seconds = argc > 4 ? atof(argv[4]) : 1.0;
    if (params < 1 || batch < 1 || ranks < 1 || seconds <= 0) {
        fprintf(stderr, "usage: nn-mpi-step-extras [PARAMS [BATCH [RANKS [SECONDS]]]]\n");
        return 2;
    }
    size_t slice = (size_t)((params + ranks - 1) / ranks);
    size_t rows = (size_t)((batch + ranks - 1) / ranks);
    float *grads = malloc(sizeof(float) * slice), *x = malloc(sizeof(float) * PIXELS * rows);
    uint8_t *records = malloc(RECORD * rows), shifted[RECORD];
    if (!grads || !x || !records) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    for (size_t i = 0; i < slice; i++)
        grads[i] = (float)((double)(i * 7919 % 1000) - 500.0) * 1e-6f;
    for (size_t i = 0; i < RECORD * rows; i++) records[i] = (uint8_t)(i * 31 % 256);

    double sink = 0.0, start = now();
    long reps = 0;
    for (; now() - start < seconds; reps++) {
        int64_t squares[NN_SQUARES_LIMBS] = {0};
        nn_fixed_add_squares(squares, grads, slice);
        sink += nn_fixed_squares_value(squares);
    }
    double norm = (now() - start) / (double)reps;

    NnPreprocess prep = nn_preprocess_default(PIXELS);
    NnAugment aug = {.shift = 2, .rows = SIDE, .cols = SIDE, .elem = 1, .seed = 1};
    double plain = 0.0, shifted_time = 0.0;
    long steps = 0;
    for (start = now(); now() - start < 2 * seconds; steps++) {
        double t0 = now();
        for (size_t i = 0; i < rows; i++)
            nn_preprocess_apply(&prep, records + i * RECORD, x + i * PIXELS);
        double t1 = now();
        for (size_t i = 0; i < rows; i++) {
            const uint8_t *r = nn_augment_record(&aug, steps, (int64_t)i, records + i * RECORD,
                                                 RECORD, shifted);
            nn_preprocess_apply(&prep, r, x + i * PIXELS);
        }
        shifted_time += now() - t1;
        plain += t1 - t0;
        sink += x[steps % (PIXELS * rows)];
    }
    plain /= (double)steps, shifted_time /= (double)steps;
    printf("clip_grad_norm: %.3f ms a step for a slice of %zu of %ld parameters (%.2f ns "
           "each)\n",
           1e3 * norm, slice, params, 1e9 * norm / (double)slice);
    printf("augment: decoding %zu of %ld samples takes %.1f us, %.1f us with shifts (+%.0f ns "
           "a sample)\n",
           rows, batch, 1e6 * plain, 1e6 * shifted_time,
           1e9 * (shifted_time - plain) / (double)rows);
    return sink == 12345.678 ? 3 : 0; /* keeps the results alive */
}
