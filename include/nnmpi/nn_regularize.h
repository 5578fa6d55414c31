/* Regularization outside the loss (label smoothing is part of it, nn_model.h): dropout masks
 * and the max-norm constraint.
 *
 * Dropout masks are drawn per sample, not per rank: whether unit j of hidden layer l is
 * dropped for the training sample whose row in the training split is `sample`, in epoch e,
 * is a pure function of (seed, e, sample, l, j), a counter-based hash (SplitMix64's mixing
 * of a key made from them), not a random stream that a rank advances. A sample's mask is so
 * the same on whichever rank computes it, at any rank count and after a resume, and
 * differs from epoch to epoch. */
#ifndef NNMPI_NN_REGULARIZE_H
#define NNMPI_NN_REGULARIZE_H

#include <stddef.h>
#include <stdint.h>

#include "nnmpi/nn_model.h"

/* The 64 random bits that decide unit `unit` of hidden layer `layer` (0-based) for training
 * sample `sample` in epoch `epoch`: the unit is dropped at rate p when bits >> 11 <
 * p 2^53. */
uint64_t nn_dropout_bits(int64_t seed, int64_t epoch, int64_t sample, int layer, int unit);

/* Writes masks:(rows, m->mask_units) for the training samples samples[0..rows) in epoch
 * `epoch`, for nn_model_forward and nn_model_backward: each hidden layer with a dropout
 * rate p (nn_model_set_dropout) gets 0 for a dropped unit and 1 / (1 - p) for a kept one.
 * Allocates nothing. */
void nn_dropout_masks(const NnModel *m, int64_t seed, int64_t epoch, const int32_t *samples,
                      int rows, float *masks);

/* Max-norm (Srivastava et al. 2014), on the hidden layers only: each weight row (a hidden
 * unit's incoming weights, (out, in) layout) whose Euclidean norm exceeds c is scaled to
 * norm c; rows at or below c, the output layer and the biases are left as they are. Only
 * the rows whose first element lies in [lo, hi) of m->params are visited, so that ranks
 * that each take a slice of the parameters visit every row once, also when a row
 * straddles two slices. A row's norm is summed in double in the row's order, so the result
 * does not depend on who visits it. Returns the number of rows scaled. */
size_t nn_max_norm(NnModel *m, double c, size_t lo, size_t hi);

#endif
