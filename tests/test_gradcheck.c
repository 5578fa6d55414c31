/* Backpropagation against central-difference numerical gradients, for every activation and
 * every loss (softmax cross-entropy, sigmoid squared error, linear squared error), on a network with three hidden layers. The numerical gradients come from an
 * independent double-precision forward pass written here, so they are accurate to about
 * 1e-9 and the comparison measures the float backprop alone. */
#include <math.h>
#include <stdlib.h>

#include "nn_test.h"
#include "nnmpi/nn_model.h"
#include "nnmpi/nn_rng.h"

enum { INPUTS = 7, OUTPUTS = 4, ROWS = 5 };

/* The reference: the same network in double, from the model's layout, returning the loss
 * summed over the rows. */
static double reference_loss(const NnModel *m, const double *params, const float *x,
                             const int32_t *labels, const float *targets, int rows)
{
    double a[16][32], next[32];
    double total = 0.0;
    for (int r = 0; r < rows; r++) {
        int width = m->inputs;
        for (int j = 0; j < width; j++) a[0][j] = x[r * m->inputs + j];
        for (int l = 0; l < m->n_layers; l++) {
            const NnLayer *L = &m->layers[l];
            const double *w = params + (L->weights - m->params);
            const double *b = params + (L->biases - m->params);
            for (int o = 0; o < L->out; o++) {
                double z = b[o];
                for (int i = 0; i < L->in; i++) z += w[o * L->in + i] * a[l][i];
                if (l == m->n_layers - 1) {
                    next[o] = z;
                } else if (m->activation == NN_ACT_SIGMOID) {
                    next[o] = 1.0 / (1.0 + exp(-z));
                } else if (m->activation == NN_ACT_RELU) {
                    next[o] = z > 0 ? z : 0;
                } else {
                    next[o] = tanh(z);
                }
            }
            width = L->out;
            for (int j = 0; j < width; j++) a[l + 1][j] = next[j];
        }
        const double *z = a[m->n_layers];
        int y = labels[r];
        if (m->loss == NN_LOSS_CROSS_ENTROPY) {
            double top = z[0], sum = 0.0;
            for (int k = 1; k < OUTPUTS; k++) top = z[k] > top ? z[k] : top;
            for (int k = 0; k < OUTPUTS; k++) sum += exp(z[k] - top);
            total += log(sum) + top - z[y];
        } else if (m->loss == NN_LOSS_MSE) {
            for (int k = 0; k < OUTPUTS; k++) {
                double d = 1.0 / (1.0 + exp(-z[k])) - (k == y);
                total += 0.5 * d * d;
            }
        } else {
            for (int k = 0; k < OUTPUTS; k++) {
                double d = z[k] - targets[r * OUTPUTS + k];
                total += 0.5 * d * d;
            }
        }
    }
    return total;
}

static void check_gradients(NnActivation act, NnLoss loss)
{
    NnIntList hidden = {3, {6, 5, 6}};
    NnModel m;
    char err[NN_ERR_LEN];
    CHECK(nn_model_init(&m, INPUTS, &hidden, OUTPUTS, act, loss, ROWS, err) == NN_OK);
    nn_model_init_weights(&m, NN_INIT_XAVIER, 42);
    NnRng rng;
    nn_rng_seed(&rng, 99, 7, (uint64_t)act * 2 + loss);
    /* Non-zero biases and larger weights, so that every unit and derivative matters. */
    for (size_t i = 0; i < m.n_params; i++) m.params[i] += nn_rng_symmetric(&rng, 0.5f);
    float x[ROWS * INPUTS];
    int32_t labels[ROWS];
    float targets[ROWS * OUTPUTS];
    for (int i = 0; i < ROWS * INPUTS; i++) x[i] = nn_rng_symmetric(&rng, 1.0f);
    for (int r = 0; r < ROWS; r++) labels[r] = (int32_t)nn_rng_below(&rng, OUTPUTS);
    for (int i = 0; i < ROWS * OUTPUTS; i++) targets[i] = nn_rng_symmetric(&rng, 2.0f);
    NnTruth truth = {labels, targets};

    double *params = malloc(sizeof(double) * m.n_params);
    for (size_t i = 0; i < m.n_params; i++) params[i] = m.params[i];

    double loss_float = nn_model_forward(&m, x, &truth, ROWS, NULL);
    double loss_double = reference_loss(&m, params, x, labels, targets, ROWS);
    CHECK(fabs(loss_float - loss_double) <= 1e-5 * (1.0 + fabs(loss_double)));
    nn_model_backward(&m, x, &truth, ROWS);

    const double h = 1e-6;
    double worst = 0.0;
    size_t worst_at = 0;
    for (size_t i = 0; i < m.n_params; i++) {
        double saved = params[i];
        params[i] = saved + h;
        double up = reference_loss(&m, params, x, labels, targets, ROWS);
        params[i] = saved - h;
        double down = reference_loss(&m, params, x, labels, targets, ROWS);
        params[i] = saved;
        double numeric = (up - down) / (2 * h);
        double error = fabs(m.grads[i] - numeric) / (1e-3 + fabs(numeric));
        if (error > worst) worst = error, worst_at = i;
    }
    printf("%-7s %-13s %zu parameters, worst relative gradient error %.2e (parameter %zu)\n",
           nn_activation_name(act), nn_loss_name(loss), m.n_params, worst, worst_at);
    CHECK(worst < 1e-3);

    /* Zero rows: zero gradients, zero loss. */
    for (size_t i = 0; i < m.n_params; i++) m.grads[i] = 1.0f;
    CHECK(nn_model_forward(&m, x, &truth, 0, NULL) == 0.0);
    nn_model_backward(&m, x, &truth, 0);
    int zero = 1;
    for (size_t i = 0; i < m.n_params; i++) zero &= m.grads[i] == 0.0f;
    CHECK(zero);
    free(params);
    nn_model_free(&m);
}

/* Softmax cross-entropy stays finite and exact for logits far outside exp's range. */
static void check_stable_softmax(void)
{
    NnIntList none = {0, {0}};
    NnModel m;
    char err[NN_ERR_LEN];
    CHECK(nn_model_init(&m, 2, &none, 3, NN_ACT_RELU, NN_LOSS_CROSS_ENTROPY, 2, err) == NN_OK);
    /* logits = (1000 x0, -1000 x0, 0) */
    float w[6] = {1000, 0, -1000, 0, 0, 0};
    memcpy(m.layers[0].weights, w, sizeof w);
    float x[4] = {1, 0, 1, 0};
    int32_t labels[2] = {0, 1};
    NnTruth truth = {labels, NULL};
    int64_t correct = 0;
    double loss = nn_model_forward(&m, x, &truth, 2, &correct);
    CHECK(isfinite(loss));
    CHECK(fabs(loss - 2000.0) < 1e-3); /* row 0 loss ~0, row 1 loss 2000 */
    CHECK(correct == 1);
    nn_model_backward(&m, x, &truth, 2);
    for (size_t i = 0; i < m.n_params; i++) CHECK(isfinite(m.grads[i]));
    nn_model_free(&m);
}

int main(void)
{
    NnActivation acts[] = {NN_ACT_SIGMOID, NN_ACT_RELU, NN_ACT_TANH};
    NnLoss losses[] = {NN_LOSS_CROSS_ENTROPY, NN_LOSS_MSE, NN_LOSS_SQUARED_ERROR};
    for (int a = 0; a < 3; a++)
        for (int l = 0; l < 3; l++) check_gradients(acts[a], losses[l]);
    check_stable_softmax();
    return nn_test_finish("test_gradcheck");
}
