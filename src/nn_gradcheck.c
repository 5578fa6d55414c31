#include "nnmpi/nn_gradcheck.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnmpi/nn_rng.h"

size_t nn_gradcheck_scratch_size(const NnModel *m)
{
    size_t widest = (size_t)m->inputs;
    for (int l = 0; l < m->n_layers; l++)
        if ((size_t)m->layers[l].out > widest) widest = (size_t)m->layers[l].out;
    return 2 * widest;
}

double nn_gradcheck_loss(const NnModel *m, const double *params, const float *x,
                         const float *masks, const NnTruth *truth, int rows, double *scratch)
{
    size_t half = nn_gradcheck_scratch_size(m) / 2;
    double total = 0.0;
    for (int r = 0; r < rows; r++) {
        double *a = scratch, *next = scratch + half;
        for (int j = 0; j < m->inputs; j++) a[j] = x[(size_t)r * m->inputs + j];
        for (int l = 0; l < m->n_layers; l++) {
            const NnLayer *L = &m->layers[l];
            const double *w = params + (L->weights - m->params);
            const double *b = params + (L->biases - m->params);
            for (int o = 0; o < L->out; o++) {
                double z = b[o];
                for (int i = 0; i < L->in; i++) z += w[(size_t)o * L->in + i] * a[i];
                if (l == m->n_layers - 1)
                    next[o] = z;
                else if (m->activation == NN_ACT_SIGMOID)
                    next[o] = 1.0 / (1.0 + exp(-z));
                else if (m->activation == NN_ACT_RELU)
                    next[o] = z > 0 ? z : 0;
                else
                    next[o] = tanh(z);
                if (l < m->n_layers - 1 && masks && L->mask_at >= 0)
                    next[o] *= masks[(size_t)r * m->mask_units + L->mask_at + o];
            }
            double *t = a;
            a = next;
            next = t;
        }
        const double *z = a; /* the output layer before its softmax or sigmoid */
        int K = m->outputs;
        switch (m->loss) {
        case NN_LOSS_CROSS_ENTROPY: { /* -sum_k q_k log softmax(z)_k, q_k as nn_model.h says */
            int y = truth->labels[r];
            double top = z[0], sum = 0.0, e = truth->smoothing;
            for (int k = 1; k < K; k++) top = z[k] > top ? z[k] : top;
            for (int k = 0; k < K; k++) sum += exp(z[k] - top);
            for (int k = 0; k < K; k++)
                total -= ((1.0 - e) * (k == y) + e / K) * (z[k] - top - log(sum));
            break;
        }
        case NN_LOSS_MSE:
            for (int k = 0; k < K; k++) {
                double d = 1.0 / (1.0 + exp(-z[k])) - (k == truth->labels[r]);
                total += 0.5 * d * d;
            }
            break;
        case NN_LOSS_SQUARED_ERROR:
            for (int k = 0; k < K; k++) {
                double d = z[k] - truth->targets[(size_t)r * K + k];
                total += 0.5 * d * d;
            }
            break;
        }
    }
    return total;
}

/* The indices of part [first, first + n) of the gradients to check: all, or the per_part
 * largest |gradients| first (where errors would matter most), the rest drawn at random. */
static size_t choose(const float *grads, size_t n, size_t per_part, NnRng *rng, size_t *out)
{
    if (n <= per_part) {
        for (size_t i = 0; i < n; i++) out[i] = i;
        return n;
    }
    size_t top = per_part / 2, count = 0;
    for (size_t k = 0; k < top; k++) { /* selection of the largest, k at a time */
        size_t best = n;
        for (size_t i = 0; i < n; i++) {
            int taken = 0;
            for (size_t j = 0; j < count && !taken; j++) taken = out[j] == i;
            if (!taken && (best == n || fabsf(grads[i]) > fabsf(grads[best]))) best = i;
        }
        out[count++] = best;
    }
    while (count < per_part) {
        size_t i = (size_t)nn_rng_below(rng, (uint64_t)n);
        int taken = 0;
        for (size_t j = 0; j < count && !taken; j++) taken = out[j] == i;
        if (!taken) out[count++] = i;
    }
    return count;
}

NnStatus nn_gradcheck_run(NnModel *m, const float *x, const float *masks, const NnTruth *truth,
                          int rows,
                          size_t per_part, uint64_t seed, NnGradcheckPart *parts,
                          char err[NN_ERR_LEN])
{
    nn_model_forward(m, x, masks, truth, rows, NULL);
    nn_model_backward(m, x, masks, truth, rows);
    double *params = malloc(sizeof(double) * m->n_params);
    double *scratch = malloc(sizeof(double) * nn_gradcheck_scratch_size(m));
    size_t largest = 1; /* the largest part: no part checks more */
    for (int l = 0; l < m->n_layers; l++)
        if ((size_t)m->layers[l].out * m->layers[l].in > largest)
            largest = (size_t)m->layers[l].out * m->layers[l].in;
    size_t *chosen = malloc(sizeof(size_t) * (per_part < largest ? per_part : largest));
    if (!params || !scratch || !chosen) {
        free(params);
        free(scratch);
        free(chosen);
        return nn_fail(err, "out of memory for a double copy of %zu parameters", m->n_params);
    }
    for (size_t i = 0; i < m->n_params; i++) params[i] = m->params[i];
    NnRng rng;
    nn_rng_seed(&rng, seed, NN_STREAM_GRADCHECK, 0);
    const double h = NN_GRADCHECK_STEP;
    for (int l = 0; l < m->n_layers; l++) {
        const NnLayer *L = &m->layers[l];
        for (int kind = 0; kind < 2; kind++) {
            const float *grads = kind ? L->d_biases : L->d_weights;
            const float *values = kind ? L->biases : L->weights;
            size_t n = kind ? (size_t)L->out : (size_t)L->out * L->in;
            size_t offset = (size_t)(values - m->params);
            NnGradcheckPart *p = &parts[2 * l + kind];
            *p = (NnGradcheckPart){.layer = l, .biases = kind};
            p->checked = choose(grads, n, per_part, &rng, chosen);
            for (size_t c = 0; c < p->checked; c++) {
                size_t i = chosen[c];
                double saved = params[offset + i];
                params[offset + i] = saved + h;
                double up = nn_gradcheck_loss(m, params, x, masks, truth, rows, scratch);
                params[offset + i] = saved - h;
                double down = nn_gradcheck_loss(m, params, x, masks, truth, rows, scratch);
                params[offset + i] = saved;
                double numeric = (up - down) / (2 * h);
                double error = fabs(grads[i] - numeric) / (NN_GRADCHECK_FLOOR + fabs(numeric));
                if (c == 0 || error > p->max_error) {
                    p->max_error = error;
                    p->worst = i;
                    p->backprop = grads[i];
                    p->numeric = numeric;
                }
            }
        }
    }
    free(params);
    free(scratch);
    free(chosen);
    return NN_OK;
}
