/* A small deterministic random number generator (SplitMix64). Streams derived from
 * (seed, stream id) are independent of the number of ranks and of the platform. */
#ifndef NNMPI_NN_RNG_H
#define NNMPI_NN_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t state;
} NnRng;

/* Stream ids: one per use, so that changing one use never shifts another. */
enum {
    NN_STREAM_WEIGHTS = 1,
    NN_STREAM_EPOCH_ORDER = 2,
    NN_STREAM_VALIDATION = 3,
    NN_STREAM_GRADCHECK = 4, /* the parameters nn-mpi gradcheck samples */
    NN_STREAM_AUGMENT = 6    /* the training images' shifts (nn_augment.h) */
};

/* Seeds rng for stream `stream` (a stream id, optionally combined with e.g. the epoch). */
void nn_rng_seed(NnRng *rng, uint64_t seed, uint64_t stream, uint64_t substream);

uint64_t nn_rng_next(NnRng *rng);

/* Uniform integer in [0, n), without modulo bias; n >= 1. */
uint64_t nn_rng_below(NnRng *rng, uint64_t n);

/* Uniform float in [-limit, limit). */
float nn_rng_symmetric(NnRng *rng, float limit);

#endif
