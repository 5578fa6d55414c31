/* A small deterministic random number generator (SplitMix64). Streams derived from
 * (seed, stream id) are independent of the number of ranks and of the platform. */
#ifndef NNMPI_NN_RNG_H
#define NNMPI_NN_RNG_H

#include <stdint.h>

typedef struct {
    uint64_t state;
} NnRng;

#define NN_RNG_GAMMA 0x9e3779b97f4a7c15ULL /* SplitMix64's increment of the state */

/* SplitMix64's output function: a bijection of 64-bit words that mixes every bit. */
static inline uint64_t nn_rng_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* Output i (0-based) of the stream rng is at, without advancing it: what the (i+1)-th
 * nn_rng_next would return. Counter-based: any output without those before it. */
static inline uint64_t nn_rng_at(const NnRng *rng, uint64_t i)
{
    return nn_rng_mix(rng->state + (i + 1) * NN_RNG_GAMMA);
}

/* Stream ids: one per use, so that changing one use never shifts another. */
enum {
    NN_STREAM_WEIGHTS = 1,
    NN_STREAM_EPOCH_ORDER = 2,
    NN_STREAM_VALIDATION = 3,
    NN_STREAM_GRADCHECK = 4, /* the parameters nn-mpi gradcheck samples */
    NN_STREAM_DROPOUT = 5,   /* dropout masks, by epoch (nn_regularize.h) */
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
