/* The optimizer (SGD with momentum and weight decay) and the learning-rate schedules.
 *
 * The optimizer's state is a view into storage that its owner allocates once, next to the
 * parameters (the trainer's node-shared window, nn_trainer.h, or an NnModelStorage):
 * nn_optim_state_floats() floats, laid out like NnModel.params. */
#ifndef NNMPI_NN_OPTIM_H
#define NNMPI_NN_OPTIM_H

#include <stdint.h>

#include "nnmpi/nn_config.h"
#include "nnmpi/nn_model.h"
#include "nnmpi/nn_status.h"

typedef struct {
    float momentum;
    float weight_decay;
    size_t n_params;
    float *velocity; /* (n_params), laid out like NnModel.params; a view (nn_optim_bind) */
} NnOptim;

/* The floats of state the optimizer keeps for n_params parameters. */
size_t nn_optim_state_floats(size_t n_params);

/* An optimizer for n_params parameters with these settings, bound to no state yet. */
NnOptim nn_optim_make(double momentum, double weight_decay, size_t n_params);

/* Points the optimizer at its state: nn_optim_state_floats() floats that the caller owns,
 * fills (zeroes for a fresh start) and keeps for the optimizer's lifetime. */
void nn_optim_bind(NnOptim *opt, float *state);

/* One update from m->grads, which hold gradient sums; grad_scale turns them into means
 * (1 / samples in the global batch). With g = grad * grad_scale + weight_decay * w for
 * weights (g = grad * grad_scale for biases): v = momentum * v + g; w -= lr * v. */
void nn_optim_step(NnOptim *opt, NnModel *m, float lr, float grad_scale);

/* The same update on the parameters [lo, hi) only (offsets into NnModel.params). */
void nn_optim_step_range(NnOptim *opt, NnModel *m, float lr, float grad_scale, size_t lo,
                         size_t hi);

/* The learning rate for step `step` (0-based) of epoch `epoch` (0-based), with
 * steps_per_epoch steps per epoch and cfg->epochs epochs in all:
 *   constant: learning_rate
 *   step:     learning_rate * lr_gamma ^ floor(epoch / lr_step_epochs)
 *   cosine:   lr_min + (learning_rate - lr_min) (1 + cos(pi t / T)) / 2, t the global step,
 *             T the number of steps of the run. */
double nn_lr_at(const NnConfig *cfg, int64_t epoch, int64_t step, int64_t steps_per_epoch);

#endif
