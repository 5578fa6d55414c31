/* Synthetic samples for tests: row i of a split is a pure function of (seed, i), so every
 * rank can build its own shard and tests can tell which row arrived where. Pixels 0 and 1
 * hold the row index (low and high byte). */
#ifndef NNMPI_TESTS_NN_TEST_DATA_H
#define NNMPI_TESTS_NN_TEST_DATA_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
    NnSamples s = {.total = total, .features = features, .classes = classes, .label_bytes = 1,
                   .max_label = -1, .prep = nn_preprocess_default(features)};
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
    *v = (NnSamples){.total = held_out, .features = features, .classes = classes,
                     .label_bytes = 1, .max_label = -1, .prep = nn_preprocess_default(features)};
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

/* Rewrites a split's records (nn_test_samples' uint8 layout) as float32 features with
 * int32 labels: feature v becomes v * 2 + 1 with scale 1/510 and mean 1/510, so that
 * decoding gives v / 255 as before, up to rounding (nn_test_row_id still reads the row).
 * With std, it becomes (v * 2 + 1) * 2, with mean 2/510 and std 2. */
static inline void nn_test_to_float(NnSamples *s, int with_std)
{
    int f = s->features;
    int64_t old_rec = f + 1, rec = 4 * (int64_t)f + 4;
    uint8_t *records = malloc((size_t)((s->count ? s->count : 1) * rec));
    for (int64_t i = 0; i < s->count; i++) {
        const uint8_t *from = s->records + i * old_rec;
        uint8_t *to = records + i * rec;
        for (int j = 0; j < f; j++) {
            float v = (float)from[j] * 2.0f + 1.0f;
            if (with_std) v *= 2.0f;
            memcpy(to + 4 * j, &v, sizeof v);
        }
        int32_t label = from[f];
        memcpy(to + 4 * f, &label, sizeof label);
    }
    free(s->records);
    s->records = records;
    s->label_bytes = 4;
    float *mean = malloc(sizeof(float) * (size_t)f), *std = malloc(sizeof(float) * (size_t)f);
    for (int j = 0; j < f; j++) {
        mean[j] = (with_std ? 2.0f : 1.0f) / 510.0f;
        std[j] = 2.0f;
    }
    s->prep = (NnPreprocess){.type = NN_FEATURES_FLOAT32, .features = f,
                             .scale = 1.0f / 510.0f};
    char err[NN_ERR_LEN];
    NnStatus status = nn_preprocess_set(&s->prep, mean, with_std ? std : NULL, "test", err);
    NN_ASSERT(status == NN_OK);
    free(mean);
    free(std);
}

/* The row index a decoded input row carries in pixels 0 and 1. */
static inline int64_t nn_test_row_id(const float *x)
{
    return (int64_t)(x[0] * 255.0f + 0.5f) + 256 * (int64_t)(x[1] * 255.0f + 0.5f);
}

#endif
