/* The tutorial's gradient check on any network: backpropagation (nn_model_backward, float)
 * against central differences of the loss computed by an independent forward pass in double
 * precision, so that the numerical gradient is accurate to about 1e-9 and the comparison
 * measures the float backprop alone. Used by nn-mpi gradcheck and tests/test_gradcheck.c.
 * The error of a parameter is |backprop - numeric| / (NN_GRADCHECK_FLOOR + |numeric|). */
#ifndef NNMPI_NN_GRADCHECK_H
#define NNMPI_NN_GRADCHECK_H

#include <stddef.h>
#include <stdint.h>

#include "nnmpi/nn_model.h"
#include "nnmpi/nn_status.h"

#define NN_GRADCHECK_FLOOR 1e-3     /* keeps tiny gradients from dominating the error */
#define NN_GRADCHECK_TOLERANCE 1e-3 /* backprop agrees when every error is at most this */
#define NN_GRADCHECK_STEP 1e-6      /* h of the central difference (f(p+h) - f(p-h)) / 2h */

/* The summed loss over rows of m's network with the parameters `params` (doubles, in the
 * layout of m->params), computed in double precision from x:(rows, inputs) and the truth
 * (its label smoothing included), with the dropout masks:(rows, m->mask_units) applied to
 * the hidden layers' outputs as nn_model_forward applies them (NULL: none). */
double nn_gradcheck_loss(const NnModel *m, const double *params, const float *x,
                         const float *masks, const NnTruth *truth, int rows, double *scratch);

/* Doubles of scratch nn_gradcheck_loss needs for m. */
size_t nn_gradcheck_scratch_size(const NnModel *m);

/* One layer's weights or biases: how many were checked and the worst error. */
typedef struct {
    int layer;
    int biases;        /* 0: weights, 1: biases */
    size_t checked;
    double max_error;
    size_t worst;      /* the index (in the layer's weights or biases) of the worst one */
    double backprop, numeric; /* its two gradients */
} NnGradcheckPart;

/* Runs forward and backward on x, masks and truth (rows <= m->rows_cap; masks: a fixed
 * dropout mask as nn_model_forward takes it, or NULL), then checks, in each
 * layer's weights and biases, up to per_part parameters (all when there are no more; else
 * the largest backprop gradients first, then others drawn from seed). parts:(2 n_layers),
 * layer by layer, weights then biases. Allocates (and frees) a double copy of the
 * parameters. */
NnStatus nn_gradcheck_run(NnModel *m, const float *x, const float *masks, const NnTruth *truth,
                          int rows,
                          size_t per_part, uint64_t seed, NnGradcheckPart *parts,
                          char err[NN_ERR_LEN]);

#endif
