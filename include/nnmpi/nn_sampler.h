/* The order in which an epoch visits the training samples. It depends only on
 * (seed, epoch, n, batch), never on the number of ranks: step t uses positions
 * [t*batch, min((t+1)*batch, n)) of the epoch's permutation. Each step's batch is split into
 * contiguous per-rank parts made of whole chunks (nn_shard_range_units): with chunk 1 the
 * part sizes differ by at most one sample; reproducible mode uses larger chunks, each
 * computed whole by one rank. */
#ifndef NNMPI_NN_SAMPLER_H
#define NNMPI_NN_SAMPLER_H

#include <stdint.h>

/* Steps per epoch: ceil(n / batch). The last batch may be smaller. */
int64_t nn_sampler_steps(int64_t n, int64_t batch);

/* Fills perm[0..n) with the permutation of [0, n) for this epoch (Fisher-Yates). */
void nn_sampler_permutation(int64_t seed, int64_t epoch, int64_t n, int32_t *perm);

/* Splits the rows [0, n) into v validation rows and the n - v training rows, each list in
 * ascending order: validation[0..v) and train[0..n-v). Every v-subset is equally likely; the
 * choice depends only on (seed, n, v), on a stream of its own (NN_STREAM_VALIDATION), never
 * on the rank count. 0 <= v <= n <= INT32_MAX; v = 0 gives every row to training. */
void nn_sampler_validation_split(int64_t seed, int64_t n, int64_t v, int32_t *validation,
                                 int32_t *train);

/* How an epoch's batches are split across ranks. */
typedef struct {
    int64_t n;     /* training samples */
    int64_t batch; /* global batch size */
    int64_t chunk; /* samples per indivisible piece of a batch */
    int parts;     /* ranks */
} NnBatchLayout;

/* Positions [*start, *start + *count) of the epoch order that step `step` uses on `rank`. */
void nn_sampler_part(const NnBatchLayout *layout, int64_t step, int rank, int64_t *start,
                     int64_t *count);

/* The rank that uses position `position` of the epoch order. */
int nn_sampler_user(const NnBatchLayout *layout, int64_t position);

#endif
