/* Backpropagation against central-difference numerical gradients, for every activation and
 * every loss (softmax cross-entropy, sigmoid squared error, linear squared error), on a
 * network with three hidden layers: every parameter, then a sample of each layer's weights
 * and biases as nn-mpi gradcheck takes it; then the same with a fixed dropout mask on two
 * of the three hidden layers, and with label smoothing (cross-entropy). The numerical
 * gradients come from the independent double-precision forward pass of nn_gradcheck.c,
 * accurate to about 1e-9, so that the comparison measures the float backprop alone. */
#include <math.h>
#include <stdlib.h>

#include "nn_test.h"
#include "nnmpi/nn_gradcheck.h"
#include "nnmpi/nn_model.h"
#include "nnmpi/nn_regularize.h"
#include "nnmpi/nn_rng.h"

enum { INPUTS = 7, OUTPUTS = 4, ROWS = 5 };

/* dropout: rates 0.3, 0 and 0.5 on the three hidden layers, with the masks of 5 samples;
 * smoothing: cross-entropy's label smoothing. */
static void check_gradients(NnActivation act, NnLoss loss, int dropout, float smoothing)
{
    NnIntList hidden = {3, {6, 5, 6}};
    NnModel m;
    char err[NN_ERR_LEN];
    CHECK(nn_model_init(&m, INPUTS, &hidden, OUTPUTS, act, loss, ROWS, err) == NN_OK);
    float masks[ROWS * 12];
    const double rates[3] = {0.3, 0.0, 0.5};
    if (dropout) {
        const int32_t samples[ROWS] = {3, 41, 7, 1000, 12};
        CHECK(nn_model_set_dropout(&m, rates, err) == NN_OK);
        CHECK(m.mask_units == 12); /* 6 + 6: the layer with rate 0 has no mask */
        nn_dropout_masks(&m, 5, 2, samples, ROWS, masks);
        int dropped = 0;
        for (int i = 0; i < ROWS * 12; i++) dropped += masks[i] == 0.0f;
        CHECK(dropped > 0 && dropped < ROWS * 12); /* the mask matters */
    }
    const float *mask = dropout ? masks : NULL;
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
    NnTruth truth = {labels, targets, smoothing};

    /* The float loss against the double reference, then every parameter's gradient. */
    double *params = malloc(sizeof(double) * m.n_params);
    double *scratch = malloc(sizeof(double) * nn_gradcheck_scratch_size(&m));
    for (size_t i = 0; i < m.n_params; i++) params[i] = m.params[i];
    double loss_float = nn_model_forward(&m, x, mask, &truth, ROWS, NULL);
    double loss_double = nn_gradcheck_loss(&m, params, x, mask, &truth, ROWS, scratch);
    CHECK(fabs(loss_float - loss_double) <= 1e-5 * (1.0 + fabs(loss_double)));
    if (dropout || smoothing > 0.0f) { /* the loss without them differs */
        NnTruth plain = {labels, targets, 0.0f};
        CHECK(fabs(nn_gradcheck_loss(&m, params, x, NULL, &plain, ROWS, scratch) - loss_double) >
              1e-3);
    }
    NnGradcheckPart parts[2 * NN_MAX_LAYERS];
    CHECK(nn_gradcheck_run(&m, x, mask, &truth, ROWS, (size_t)-1, 1, parts, err) == NN_OK);
    double worst = 0.0;
    size_t checked = 0;
    for (int p = 0; p < 2 * m.n_layers; p++) {
        checked += parts[p].checked;
        if (parts[p].max_error > worst) worst = parts[p].max_error;
    }
    CHECK(checked == m.n_params);
    printf("%-7s %-13s %-7s smoothing %.2f: %zu parameters, worst relative gradient error "
           "%.2e\n",
           nn_activation_name(act), nn_loss_name(loss), dropout ? "dropout" : "", smoothing,
           m.n_params, worst);
    CHECK(worst < NN_GRADCHECK_TOLERANCE);
    /* A sample of each part: at most 4, the largest gradient among them. */
    CHECK(nn_gradcheck_run(&m, x, mask, &truth, ROWS, 4, 1, parts, err) == NN_OK);
    for (int p = 0; p < 2 * m.n_layers; p++) {
        const NnLayer *L = &m.layers[parts[p].layer];
        size_t n = parts[p].biases ? (size_t)L->out : (size_t)L->out * L->in;
        CHECK(parts[p].checked == (n < 4 ? n : 4) && parts[p].max_error < NN_GRADCHECK_TOLERANCE);
    }
    free(scratch);

    /* Zero rows: zero gradients, zero loss. */
    for (size_t i = 0; i < m.n_params; i++) m.grads[i] = 1.0f;
    CHECK(nn_model_forward(&m, x, mask, &truth, 0, NULL) == 0.0);
    nn_model_backward(&m, x, mask, &truth, 0);
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
    NnTruth truth = {labels, NULL, 0.0f};
    int64_t correct = 0;
    double loss = nn_model_forward(&m, x, NULL, &truth, 2, &correct);
    CHECK(isfinite(loss));
    CHECK(fabs(loss - 2000.0) < 1e-3); /* row 0 loss ~0, row 1 loss 2000 */
    CHECK(correct == 1);
    nn_model_backward(&m, x, NULL, &truth, 2);
    for (size_t i = 0; i < m.n_params; i++) CHECK(isfinite(m.grads[i]));
    nn_model_free(&m);
}

int main(void)
{
    NnActivation acts[] = {NN_ACT_SIGMOID, NN_ACT_RELU, NN_ACT_TANH};
    NnLoss losses[] = {NN_LOSS_CROSS_ENTROPY, NN_LOSS_MSE, NN_LOSS_SQUARED_ERROR};
    for (int a = 0; a < 3; a++) {
        for (int l = 0; l < 3; l++) {
            check_gradients(acts[a], losses[l], 0, 0.0f);
            check_gradients(acts[a], losses[l], 1, 0.0f);
        }
        check_gradients(acts[a], NN_LOSS_CROSS_ENTROPY, 0, 0.1f);
        check_gradients(acts[a], NN_LOSS_CROSS_ENTROPY, 1, 0.3f);
    }
    check_stable_softmax();
    return nn_test_finish("test_gradcheck");
}
