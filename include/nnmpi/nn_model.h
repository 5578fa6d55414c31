/* A multi-layer perceptron: dense layers with a hidden activation, and a softmax
 * (cross-entropy loss), sigmoid (MSE loss) or linear (squared-error loss, regression)
 * output layer. All weights and biases live in
 * one flat buffer and all gradients in another; layers hold views into them. All matrix
 * work goes through CBLAS sgemm on row-major arrays. Nothing is allocated after init. */
#ifndef NNMPI_NN_MODEL_H
#define NNMPI_NN_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "nnmpi/nn_config.h"
#include "nnmpi/nn_status.h"

#define NN_MAX_LAYERS (NN_MAX_HIDDEN + 1)

/* Slots after the gradients in the grads buffer, for the caller to send along in the same
 * reduction (nn_trainer_step: the loss sum, the sample count, votes). */
enum { NN_GRAD_EXTRA = 8 };

/* What the rows of a batch should give: a class per row (losses cross_entropy and mse) or
 * `outputs` target values per row (squared_error), row-major. With cross_entropy, the
 * target distribution of a row of class y over K classes is (1 - smoothing) onehot(y) +
 * smoothing / K (label smoothing, as PyTorch's CrossEntropyLoss(label_smoothing)); 0 for
 * the other losses. */
typedef struct {
    const int32_t *labels;  /* (rows) */
    const float *targets;   /* (rows, outputs) */
    float smoothing;        /* in [0, 1) */
} NnTruth;

/* 1 for the regression loss (float targets, linear outputs), 0 for the classifiers. */
static inline int nn_loss_is_regression(NnLoss loss)
{
    return loss == NN_LOSS_SQUARED_ERROR;
}

/* The truth of rows [first, ...) of a batch whose truth is `all`. */
static inline NnTruth nn_truth_from(const NnTruth *all, int first, int outputs)
{
    NnTruth t = {all->labels ? all->labels + first : NULL,
                 all->targets ? all->targets + (size_t)first * (size_t)outputs : NULL,
                 all->smoothing};
    return t;
}

typedef struct {
    int in, out;
    float *weights;   /* (out, in), view into NnModel.params */
    float *biases;    /* (out) */
    float *d_weights; /* (out, in), view into NnModel.grads */
    float *d_biases;  /* (out) */
    float *act;       /* (rows_cap, out): outputs after the activation */
    float *delta;     /* (rows_cap, out): dLoss/d(pre-activation) */
    int mask_at;      /* hidden layer with dropout: its units' offset in a mask row; else -1 */
    float *dropped;   /* (rows_cap, out): act times the mask, the next layer's input in a
                         masked pass; NULL without dropout */
} NnLayer;

typedef struct {
    int n_layers; /* hidden layers + the output layer */
    int inputs, outputs;
    NnActivation activation;
    NnLoss loss;
    int rows_cap;    /* most rows one forward or backward call may take */
    size_t n_params; /* weights and biases */
    float *params;   /* n_params: layer by layer, weights then biases */
    float *grads;    /* n_params + NN_GRAD_EXTRA */
    int owns_params, owns_grads; /* else the storage belongs to the caller */
    float *input;    /* (rows_cap, inputs): scratch for the caller's batch */
    int32_t *labels; /* (rows_cap): scratch for the caller's batch (classification) */
    float *targets;  /* (rows_cap, outputs): the same (regression); NULL otherwise */
    NnLayer layers[NN_MAX_LAYERS];
    void *arena; /* activation buffers, one allocation */
    /* Dropout (nn_model_set_dropout): each hidden layer's rate, and the length of a row of
     * masks, the units of the layers with a rate above 0 one after the other. */
    double dropout[NN_MAX_LAYERS];
    int mask_units;
    float *dropped_arena; /* the layers' dropped buffers, one allocation */
} NnModel;

/* The model's scratch truth (labels or targets) for the caller's batch. */
static inline NnTruth nn_model_truth(const NnModel *m)
{
    NnTruth t = {nn_loss_is_regression(m->loss) ? NULL : m->labels, m->targets, 0.0f};
    return t;
}

/* The index of the largest of v[0..n) (the first of equals): the predicted class. */
static inline int nn_argmax(const float *v, int n)
{
    int best = 0;
    for (int j = 1; j < n; j++)
        if (v[j] > v[best]) best = j;
    return best;
}

/* Allocates a model of inputs -> hidden... -> outputs. Weights are zero until
 * nn_model_init_weights. */
NnStatus nn_model_init(NnModel *m, int inputs, const NnIntList *hidden, int outputs,
                       NnActivation activation, NnLoss loss, int rows_cap,
                       char err[NN_ERR_LEN]);

/* Draws the weights (uniform, Xavier or He scale) from the seed's weight stream; biases 0.
 * Every rank that calls this with the same seed gets the same weights. */
void nn_model_init_weights(NnModel *m, NnInit init, int64_t seed);

/* Gives hidden layer l the dropout rate rates[l] (in [0, 1); 0: none), l < hidden layers,
 * and allocates the buffers a masked pass needs. Once, after nn_model_init. */
NnStatus nn_model_set_dropout(NnModel *m, const double *rates, char err[NN_ERR_LEN]);

/* Forward pass. x:(rows, inputs) -> each layer's act; the output layer holds probabilities
 * (softmax), sigmoid outputs or linear outputs (squared_error). With a truth (not NULL),
 * returns the summed loss over the rows and adds to *correct (if not NULL; classifiers
 * only) the rows whose largest output is the label; the loss per row is
 * -sum_k q_k log softmax(z)_k with q the truth's target distribution (-log softmax(z)[y]
 * without smoothing), 1/2 sum_k (a_k - onehot(y)_k)^2 or 1/2 sum_k (a_k - t_k)^2.
 * rows <= rows_cap.
 * masks:(rows, mask_units) is training's dropout: hidden layer l's outputs are multiplied
 * by their part of each row (0 for a dropped unit, 1 / (1 - rate) for a kept one) before
 * the next layer takes them; NULL (evaluation, and models without dropout): none. */
double nn_model_forward(NnModel *m, const float *x, const float *masks, const NnTruth *truth,
                        int rows, int64_t *correct);

/* Backward pass after nn_model_forward on the same x, masks and truth: writes into grads
 * the gradient of the summed (not averaged) loss over the rows. rows = 0 gives zero grads. */
void nn_model_backward(NnModel *m, const float *x, const float *masks, const NnTruth *truth,
                       int rows);

/* After nn_model_forward of a regression model on these rows: sum over the rows and
 * outputs of |a_k - t_k|. */
double nn_model_abs_error(const NnModel *m, const float *targets, int rows);

/* Moves the parameters and/or the gradients (whichever is not NULL) to storage the caller
 * owns and fills, which must outlive the model: n_params and n_params + NN_GRAD_EXTRA
 * floats. The model's own buffers are freed. */
void nn_model_use_storage(NnModel *m, float *params, float *grads);

/* A hash of the parameters' bits (nn_hash.h): equal models, equal hashes. */
uint64_t nn_model_params_hash(const NnModel *m);

void nn_model_free(NnModel *m);

#endif
