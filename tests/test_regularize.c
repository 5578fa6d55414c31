/* Dropout masks and the max-norm constraint (nn_regularize.h), without MPI.
 * Masks: a pure function of (seed, epoch, sample, layer, unit): the same for a sample
 * wherever it sits in a batch, different across epochs, samples and seeds; the dropped
 * fraction is the rate and kept units carry 1 / (1 - rate); a masked forward pass zeroes
 * the dropped units and scales the kept ones, and evaluation (no masks) sees every unit.
 * Max-norm: hidden rows above c end with norm c, rows at or below c, the output layer and
 * the biases keep their bits, and slices of the parameters that cut rows anywhere scale
 * each row once, to the bits of one pass over everything. */
#include <math.h>
#include <stdlib.h>

#include "nn_test.h"
#include "nnmpi/nn_model.h"
#include "nnmpi/nn_regularize.h"
#include "nnmpi/nn_rng.h"

enum { INPUTS = 5, ROWS = 64 };

/* A 5-40-30-3 relu model with dropout rates (0.25, 0.5), rows_cap ROWS. */
static void dropout_model(NnModel *m)
{
    NnIntList hidden = {2, {40, 30}};
    char err[NN_ERR_LEN];
    CHECK(nn_model_init(m, INPUTS, &hidden, 3, NN_ACT_RELU, NN_LOSS_CROSS_ENTROPY, ROWS, err) ==
          NN_OK);
    nn_model_init_weights(m, NN_INIT_HE, 1);
    const double rates[2] = {0.25, 0.5};
    CHECK(nn_model_set_dropout(m, rates, err) == NN_OK);
    CHECK(m->mask_units == 70 && m->layers[0].mask_at == 0 && m->layers[1].mask_at == 40);
}

static void test_masks(void)
{
    NnModel m;
    dropout_model(&m);
    int32_t samples[ROWS];
    for (int r = 0; r < ROWS; r++) samples[r] = r * 37 + 5;
    float *a = malloc(sizeof(float) * ROWS * 70), *b = malloc(sizeof(float) * ROWS * 70);

    /* Each entry is the hash's decision for its (seed, epoch, sample, layer, unit). */
    nn_dropout_masks(&m, 9, 3, samples, ROWS, a);
    int agree = 1;
    long dropped[2] = {0, 0};
    for (int r = 0; r < ROWS; r++)
        for (int u = 0; u < 70; u++) {
            int layer = u < 40 ? 0 : 1, unit = u < 40 ? u : u - 40;
            double p = layer ? 0.5 : 0.25;
            uint64_t bits = nn_dropout_bits(9, 3, samples[r], layer, unit);
            float want = (double)(bits >> 11) < ldexp(p, 53) ? 0.0f : (float)(1.0 / (1.0 - p));
            agree &= a[r * 70 + u] == want;
            dropped[layer] += a[r * 70 + u] == 0.0f;
        }
    CHECK(agree);
    /* The dropped fraction is the rate (64 x 40 and 64 x 30 draws: within 5 sigma). */
    double f0 = dropped[0] / (ROWS * 40.0), f1 = dropped[1] / (ROWS * 30.0);
    printf("dropped fractions %.3f (rate 0.25) and %.3f (rate 0.5)\n", f0, f1);
    CHECK(fabs(f0 - 0.25) < 5 * sqrt(0.25 * 0.75 / (ROWS * 40.0)));
    CHECK(fabs(f1 - 0.5) < 5 * sqrt(0.25 / (ROWS * 30.0)));

    /* A sample's mask does not depend on its place in the batch (nor on the rank). */
    int32_t reversed[ROWS];
    for (int r = 0; r < ROWS; r++) reversed[r] = samples[ROWS - 1 - r];
    nn_dropout_masks(&m, 9, 3, reversed, ROWS, b);
    int same = 1;
    for (int r = 0; r < ROWS; r++)
        same &= memcmp(a + r * 70, b + (ROWS - 1 - r) * 70, sizeof(float) * 70) == 0;
    CHECK(same);

    /* Another epoch, seed or sample: another mask (about 2p(1-p) of the units differ). */
    int64_t variants[3][2] = {{9, 4}, {10, 3}, {9, 3}};
    for (int v = 0; v < 3; v++) {
        int32_t ids[ROWS];
        for (int r = 0; r < ROWS; r++) ids[r] = v == 2 ? samples[r] + 1 : samples[r];
        nn_dropout_masks(&m, variants[v][0], variants[v][1], ids, ROWS, b);
        long differ = 0;
        for (int i = 0; i < ROWS * 70; i++) differ += a[i] != b[i];
        double f = differ / (ROWS * 70.0);
        printf("masks of %s: %.3f of the units differ\n",
               v == 0 ? "the next epoch" : v == 1 ? "another seed" : "the next samples", f);
        CHECK(f > 0.35 && f < 0.55); /* expected 40/70 * 0.375 + 30/70 * 0.5 = 0.43 */
    }

    /* Masked forward pass: dropped units are 0, kept units their output times 1/(1-p);
     * evaluation (no masks) gives the unmasked outputs. */
    float x[ROWS * INPUTS];
    NnRng rng;
    nn_rng_seed(&rng, 4, 7, 0);
    for (int i = 0; i < ROWS * INPUTS; i++) x[i] = nn_rng_symmetric(&rng, 1.0f);
    nn_model_forward(&m, x, a, NULL, ROWS, NULL);
    int scaled = 1;
    for (int r = 0; r < ROWS; r++)
        for (int j = 0; j < 40; j++) {
            float act = m.layers[0].act[r * 40 + j], out = m.layers[0].dropped[r * 40 + j];
            scaled &= out == (a[r * 70 + j] == 0.0f ? 0.0f : act * (1.0f / 0.75f));
        }
    CHECK(scaled);
    float masked_out[ROWS * 3];
    memcpy(masked_out, m.layers[2].act, sizeof masked_out);
    nn_model_forward(&m, x, NULL, NULL, ROWS, NULL);
    CHECK(memcmp(masked_out, m.layers[2].act, sizeof masked_out) != 0);
    float *ones = malloc(sizeof(float) * ROWS * 70); /* all kept at scale 1: no change */
    for (int i = 0; i < ROWS * 70; i++) ones[i] = 1.0f;
    memcpy(masked_out, m.layers[2].act, sizeof masked_out);
    nn_model_forward(&m, x, ones, NULL, ROWS, NULL);
    CHECK(memcmp(masked_out, m.layers[2].act, sizeof masked_out) == 0);
    free(ones);
    free(a);
    free(b);
    nn_model_free(&m);

    /* Rates of 0: no mask units, no buffers. */
    NnIntList hidden = {2, {4, 4}};
    char err[NN_ERR_LEN];
    const double none[2] = {0.0, 0.0};
    CHECK(nn_model_init(&m, 3, &hidden, 2, NN_ACT_RELU, NN_LOSS_CROSS_ENTROPY, 4, err) == NN_OK);
    CHECK(nn_model_set_dropout(&m, none, err) == NN_OK);
    CHECK(m.mask_units == 0 && !m.dropped_arena && m.layers[0].mask_at == -1);
    nn_model_free(&m);
}

static double row_norm(const float *w, int n)
{
    double s = 0.0;
    for (int i = 0; i < n; i++) s += (double)w[i] * w[i];
    return sqrt(s);
}

static void test_max_norm(void)
{
    /* 7-6-5-3: hidden rows of 7 and 6 weights, so that slices cut rows anywhere. */
    NnIntList hidden = {2, {6, 5}};
    NnModel m;
    char err[NN_ERR_LEN];
    CHECK(nn_model_init(&m, 7, &hidden, 3, NN_ACT_RELU, NN_LOSS_CROSS_ENTROPY, 1, err) == NN_OK);
    NnRng rng;
    nn_rng_seed(&rng, 11, 7, 1);
    for (size_t i = 0; i < m.n_params; i++) m.params[i] = nn_rng_symmetric(&rng, 1.0f);
    NnLayer *top = &m.layers[m.n_layers - 1];
    for (int i = 0; i < top->in; i++) top->weights[i] = 1.0f; /* an output row above c */
    const double c = 1.3;
    float *before = malloc(sizeof(float) * m.n_params);
    float *whole = malloc(sizeof(float) * m.n_params);
    memcpy(before, m.params, sizeof(float) * m.n_params);
    size_t scaled = nn_max_norm(&m, c, 0, m.n_params);
    memcpy(whole, m.params, sizeof(float) * m.n_params);
    size_t above = 0, below = 0;
    for (int l = 0; l < m.n_layers; l++) {
        NnLayer *L = &m.layers[l];
        size_t at = (size_t)(L->weights - m.params);
        for (int o = 0; o < L->out; o++) {
            const float *w0 = before + at + (size_t)o * L->in, *w = L->weights + (size_t)o * L->in;
            double n0 = row_norm(w0, L->in), n = row_norm(w, L->in);
            if (l < m.n_layers - 1 && n0 > c) {
                above++;
                CHECK(fabs(n - c) <= 1e-6 * c); /* norm c, to float rounding */
                double ratio = (double)w[0] / w0[0]; /* the direction is kept */
                for (int i = 1; i < L->in; i++)
                    CHECK(fabs((double)w[i] - ratio * w0[i]) <= 1e-6 * fabs(w0[i]) + 1e-12);
            } else {
                below += l < m.n_layers - 1;
                CHECK(memcmp(w0, w, sizeof(float) * L->in) == 0); /* untouched bits */
            }
        }
        CHECK(memcmp(before + at + (size_t)L->out * L->in, L->biases, sizeof(float) * L->out) ==
              0);
    }
    printf("max-norm %.1f: %zu hidden rows scaled to it, %zu below it untouched\n", c, above,
           below);
    CHECK(scaled == above && above >= 3 && below >= 3);
    /* The output layer's row above c was left alone (hidden units only). */
    CHECK(row_norm(top->weights, top->in) > c);

    /* Slices: cut points inside rows, on row starts, and empty slices; each row once. */
    const size_t cuts[][3] = {{0, 0, m.n_params}, {3, 10, 44}, {7, 14, 56}, {1, 50, 51},
                              {m.n_params, m.n_params, m.n_params}};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        memcpy(m.params, before, sizeof(float) * m.n_params);
        size_t lo = 0, total = 0;
        for (int s = 0; s <= 3; s++) {
            size_t hi = s < 3 ? cuts[k][s] : m.n_params;
            total += nn_max_norm(&m, c, lo, hi);
            lo = hi;
        }
        CHECK(total == scaled);
        CHECK(memcmp(m.params, whole, sizeof(float) * m.n_params) == 0);
    }
    free(before);
    free(whole);
    nn_model_free(&m);
}

int main(void)
{
    test_masks();
    test_max_norm();
    return nn_test_finish("test_regularize");
}
