/* Synthetic samples for tests: row i of a split is a pure function of (seed, i), so every
 * rank can build its own shard and tests can tell which row arrived where. Pixels 0 and 1
 * hold the row index (low and high byte). */
#ifndef NNMPI_TESTS_NN_TEST_DATA_H
#define NNMPI_TESTS_NN_TEST_DATA_H

#include <stdint.h>
#include <stdlib.h>

#include "nnmpi/nn_dataset.h"
#include "nnmpi/nn_rng.h"
#include "nnmpi/nn_sampler.h"
#include "nnmpi/nn_shard.h"
#include "nnmpi/nn_splits.h"

static inline void nn_test_row(uint64_t seed, int64_t row, int features, int classes,
                               uint8_t *record)
{
    NnRng rng;
    nn_rng_seed(&rng, seed, 1000, (uint64_t)row);
    for (int j = 0; j < features; j++) record[j] = (uint8_t)nn_rng_below(&rng, 256);
    record[0] = (uint8_t)(row & 0xff);
    record[1] = (uint8_t)(row >> 8);
    record[features] = (uint8_t)nn_rng_below(&rng, (uint64_t)classes);
}

/* This rank's shard (nn_shard_range_units) of a split of `total` synthetic rows. */
static inline NnSamples nn_test_samples(uint64_t seed, int64_t total, int features, int classes,
                                        int64_t unit, int rank, int size)
{
    NnSamples s = {.total = total, .features = features, .classes = classes};
    nn_shard_range_units(total, unit, size, rank, &s.start, &s.count);
    s.records = malloc((size_t)((s.count ? s.count : 1) * (features + 1)));
    for (int64_t i = 0; i < s.count; i++)
        nn_test_row(seed, s.start + i, features, classes, s.records + i * (features + 1));
    return s;
}

/* Synthetic splits as nn_splits_read gives them: `total` training rows (data seed 21) of
 * which `held_out` are the validation split (nn_sampler_validation_split with `seed`; 0:
 * none), and `test` test rows (data seed 22); validation and test shards in units of
 * `unit`. */
static inline NnSplits nn_test_splits(int64_t seed, int64_t total, int64_t held_out,
                                      int64_t test, int features, int classes, int64_t unit,
                                      int rank, int size)
{
    NnSplits s = {.train = nn_test_samples(21, total, features, classes, 1, rank, size),
                  .test = nn_test_samples(22, test, features, classes, unit, rank, size),
                  .n_train_rows = total - held_out};
    NnSamples *v = &s.validation;
    *v = (NnSamples){.total = held_out, .features = features, .classes = classes};
    if (held_out == 0) return s;
    int32_t *val = malloc(sizeof(int32_t) * (size_t)held_out);
    s.train_rows = malloc(sizeof(int32_t) * (size_t)(total - held_out));
    nn_sampler_validation_split(seed, total, held_out, val, s.train_rows);
    nn_shard_range_units(held_out, unit, size, rank, &v->start, &v->count);
    v->records = malloc((size_t)((v->count ? v->count : 1) * (features + 1)));
    for (int64_t i = 0; i < v->count; i++)
        nn_test_row(21, val[v->start + i], features, classes, v->records + i * (features + 1));
    free(val);
    return s;
}

/* The row index a decoded input row carries in pixels 0 and 1. */
static inline int64_t nn_test_row_id(const float *x)
{
    return (int64_t)(x[0] * 255.0f + 0.5f) + 256 * (int64_t)(x[1] * 255.0f + 0.5f);
}

#endif
