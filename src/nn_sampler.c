#include "nnmpi/nn_sampler.h"

#include "nnmpi/nn_rng.h"
#include "nnmpi/nn_shard.h"
#include "nnmpi/nn_status.h"

int64_t nn_sampler_steps(int64_t n, int64_t batch)
{
    NN_ASSERT(n >= 0 && batch >= 1);
    return (n + batch - 1) / batch;
}

void nn_sampler_permutation(int64_t seed, int64_t epoch, int64_t n, int32_t *perm)
{
    NN_ASSERT(n >= 0 && n <= INT32_MAX);
    NnRng rng;
    nn_rng_seed(&rng, (uint64_t)seed, NN_STREAM_EPOCH_ORDER, (uint64_t)epoch);
    for (int64_t i = 0; i < n; i++) perm[i] = (int32_t)i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)nn_rng_below(&rng, (uint64_t)i + 1);
        int32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

void nn_sampler_validation_split(int64_t seed, int64_t n, int64_t v, int32_t *validation,
                                 int32_t *train)
{
    NN_ASSERT(v >= 0 && v <= n && n <= INT32_MAX);
    NnRng rng;
    nn_rng_seed(&rng, (uint64_t)seed, NN_STREAM_VALIDATION, 0);
    /* Selection sampling (Knuth's algorithm S): row i joins the validation rows with
     * probability (rows still wanted) / (rows left), which gives a uniform subset, already
     * sorted, in one pass and without scratch memory. */
    int64_t picked = 0, kept = 0;
    for (int64_t i = 0; i < n; i++) {
        if (picked < v && (int64_t)nn_rng_below(&rng, (uint64_t)(n - i)) < v - picked)
            validation[picked++] = (int32_t)i;
        else
            train[kept++] = (int32_t)i;
    }
    NN_ASSERT(picked == v && kept == n - v);
}

/* The size of the batch that holds position `first` (a multiple of the batch size). */
static int64_t batch_size_at(const NnBatchLayout *l, int64_t first)
{
    return l->n - first < l->batch ? l->n - first : l->batch;
}

void nn_sampler_part(const NnBatchLayout *l, int64_t step, int rank, int64_t *start,
                     int64_t *count)
{
    int64_t first = step * l->batch;
    NN_ASSERT(first < l->n);
    nn_shard_range_units(batch_size_at(l, first), l->chunk, l->parts, rank, start, count);
    *start += first;
}

int nn_sampler_user(const NnBatchLayout *l, int64_t position)
{
    NN_ASSERT(position >= 0 && position < l->n);
    int64_t first = position / l->batch * l->batch;
    return nn_shard_owner_units(batch_size_at(l, first), l->chunk, l->parts, position - first);
}
