#include "nnmpi/nn_regularize.h"

#include <math.h>
#include <string.h>

#include "nnmpi/nn_rng.h"
#include "nnmpi/nn_status.h"

/* Unit j's bits are output j of the SplitMix64 stream seeded with this key (nn_rng_at). */
static NnRng dropout_key(int64_t seed, int64_t epoch, int64_t sample, int layer)
{
    NnRng epoch_key, key;
    nn_rng_seed(&epoch_key, (uint64_t)seed, NN_STREAM_DROPOUT, (uint64_t)epoch);
    nn_rng_seed(&key, epoch_key.state, (uint64_t)sample, (uint64_t)layer);
    return key;
}

uint64_t nn_dropout_bits(int64_t seed, int64_t epoch, int64_t sample, int layer, int unit)
{
    NnRng key = dropout_key(seed, epoch, sample, layer);
    return nn_rng_at(&key, (uint64_t)unit);
}

void nn_dropout_masks(const NnModel *m, int64_t seed, int64_t epoch, const int32_t *samples,
                      int rows, float *masks)
{
    for (int l = 0; l < m->n_layers - 1; l++) {
        const NnLayer *L = &m->layers[l];
        if (L->mask_at < 0) continue;
        double p = m->dropout[l];
        uint64_t threshold = (uint64_t)ldexp(p, 53);
        float keep = (float)(1.0 / (1.0 - p));
        uint32_t keep_bits;
        memcpy(&keep_bits, &keep, sizeof keep_bits);
        for (int r = 0; r < rows; r++) {
            NnRng key = dropout_key(seed, epoch, samples[r], l);
            float *k = masks + (size_t)r * m->mask_units + L->mask_at;
            /* keep's bits or 0 through an integer mask, not a branch: a branch on random
             * bits is mispredicted half the time, which costs more than the hash */
            for (int j = 0; j < L->out; j++) {
                uint32_t kept = (uint32_t)(nn_rng_at(&key, (uint64_t)j) >> 11 >= threshold);
                uint32_t v = keep_bits & -kept;
                memcpy(&k[j], &v, sizeof v);
            }
        }
    }
}

size_t nn_max_norm(NnModel *m, double c, size_t lo, size_t hi)
{
    NN_ASSERT(c > 0.0 && lo <= hi && hi <= m->n_params);
    size_t scaled = 0;
    for (int l = 0; l < m->n_layers - 1; l++) {
        NnLayer *L = &m->layers[l];
        size_t at = (size_t)(L->weights - m->params);
        for (int o = 0; o < L->out; o++) {
            size_t first = at + (size_t)o * L->in;
            if (first < lo || first >= hi) continue;
            float *w = L->weights + (size_t)o * L->in;
            double sum = 0.0;
            for (int i = 0; i < L->in; i++) sum += (double)w[i] * w[i];
            double norm = sqrt(sum);
            if (!(norm > c)) continue;
            double s = c / norm;
            for (int i = 0; i < L->in; i++) w[i] = (float)(w[i] * s);
            scaled++;
        }
    }
    return scaled;
}
