#include "nnmpi/nn_rng.h"

void nn_rng_seed(NnRng *rng, uint64_t seed, uint64_t stream, uint64_t substream)
{
    rng->state = nn_rng_mix(nn_rng_mix(nn_rng_mix(seed) ^ stream) + substream);
}

uint64_t nn_rng_next(NnRng *rng)
{
    rng->state += NN_RNG_GAMMA;
    return nn_rng_mix(rng->state);
}

uint64_t nn_rng_below(NnRng *rng, uint64_t n)
{
    /* Lemire's multiply-and-reject method. */
    unsigned __int128 m = (unsigned __int128)nn_rng_next(rng) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = -n % n;
        while (low < threshold) {
            m = (unsigned __int128)nn_rng_next(rng) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

float nn_rng_symmetric(NnRng *rng, float limit)
{
    /* 24 random bits give every float in [0, 1) on a 2^-24 grid. */
    float unit = (float)(nn_rng_next(rng) >> 40) * (1.0f / 16777216.0f);
    return (2.0f * unit - 1.0f) * limit;
}
