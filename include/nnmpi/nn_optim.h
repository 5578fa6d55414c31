/* The optimizers ([train] optimizer: SGD with momentum, Adam, AdamW) and the learning-rate
 * schedules.
 *
 * An optimizer's state is a view into storage that its owner allocates once, next to the
 * parameters (the trainer's node-shared window, nn_trainer.h, or an NnModelStorage):
 * nn_optim_state_floats() floats, arrays of n_params floats each laid out like
 * NnModel.params, named as nn_optim_state_arrays() says. The update is elementwise, so a
 * rank can update a slice [lo, hi) of the parameters and their state alone. */
#ifndef NNMPI_NN_OPTIM_H
#define NNMPI_NN_OPTIM_H

#include <stdint.h>

#include "nnmpi/nn_config.h"
#include "nnmpi/nn_model.h"
#include "nnmpi/nn_status.h"

enum { NN_OPTIM_MAX_ARRAYS = 2 };

typedef struct {
    NnOptimizer type;
    float momentum;      /* sgd */
    float weight_decay;  /* of the weights, not the biases */
    double beta1, beta2; /* adam, adamw */
    double epsilon;      /* adam, adamw */
    int64_t step;        /* adam, adamw: updates made so far (the bias corrections' t) */
    size_t n_params;
    float *state;        /* nn_optim_state_floats() floats; a view (nn_optim_bind) */
    float *velocity;     /* sgd: (n_params), a view into state */
    float *exp_avg;      /* adam, adamw: (n_params), the gradient's running mean */
    float *exp_avg_sq;   /* adam, adamw: (n_params), the squared gradient's running mean */
} NnOptim;

/* The state arrays an optimizer of this type keeps, n_params floats each, in the order of
 * its state: their names (as PyTorch's optimizers call them: "velocity"; "exp_avg",
 * "exp_avg_sq") into names, and how many. */
int nn_optim_state_arrays(NnOptimizer type, const char *names[NN_OPTIM_MAX_ARRAYS]);

/* The floats of state an optimizer of this type keeps for n_params parameters. */
size_t nn_optim_state_floats(NnOptimizer type, size_t n_params);

/* The optimizer cfg describes ([train] optimizer, momentum, weight_decay, beta1, beta2,
 * epsilon) for n_params parameters, at step 0, bound to no state yet. */
NnOptim nn_optim_from_config(const NnConfig *cfg, size_t n_params);

/* Points the optimizer at its state: nn_optim_state_floats() floats that the caller owns,
 * fills (zeroes for a fresh start) and keeps for the optimizer's lifetime. */
void nn_optim_bind(NnOptim *opt, float *state);

/* "sgd (momentum 0.9, weight_decay 0.0001)" or "adam (beta1 0.9, beta2 0.999, epsilon
 * 1e-08, weight_decay 0) after 120 steps", for people. */
void nn_optim_describe(const NnOptim *opt, char *out, size_t size);

/* One update from m->grads, which hold gradient sums; grad_scale turns them into means
 * (1 / samples in the global batch): g = grad * grad_scale. Weight decay wd applies to
 * the weights, not the biases.
 *   sgd:   g += wd w; v = momentum v + g; w -= lr v
 *   adam:  g += wd w; t += 1; m = beta1 m + (1 - beta1) g; s = beta2 s + (1 - beta2) g^2;
 *          w -= lr / (1 - beta1^t) * m / (sqrt(s) / sqrt(1 - beta2^t) + epsilon)
 *   adamw: w *= 1 - lr wd first, then adam's update without the wd term
 * (m = exp_avg, s = exp_avg_sq: torch.optim.Adam and AdamW with amsgrad and maximize off,
 * operation for operation in float, the bias corrections in double). */
void nn_optim_step(NnOptim *opt, NnModel *m, float lr, float grad_scale);

/* The same update on the parameters [lo, hi) only (offsets into NnModel.params). Every
 * rank calls it once per step, with its own slice (which may be empty): Adam's step count
 * advances on every rank alike. */
void nn_optim_step_range(NnOptim *opt, NnModel *m, float lr, float grad_scale, size_t lo,
                         size_t hi);

/* The learning rate for step `step` (0-based) of epoch `epoch` (0-based), with
 * steps_per_epoch steps per epoch and cfg->epochs epochs in all: the schedule's rate
 *   constant: learning_rate
 *   step:     learning_rate * lr_gamma ^ floor(epoch / lr_step_epochs)
 *   cosine:   lr_min + (learning_rate - lr_min) (1 + cos(pi t / T)) / 2, t the global step,
 *             T the number of steps of the run
 * times the warm-up's factor min(1, (t + 1) / W) over the first W = nn_warmup_steps steps.
 * The schedule's clock starts at step 0, not after the warm-up (a cosine run with warm-up
 * still ends at lr_min on its last step): PyTorch's LambdaLR with the product of both
 * factors, or LinearLR(start_factor=1/W, total_iters=W-1) chained with the schedule. A pure
 * function of the position, so a resumed run continues the same rates. */
double nn_lr_at(const NnConfig *cfg, int64_t epoch, int64_t step, int64_t steps_per_epoch);

/* The warm-up's length W in steps: [train] warmup_steps, or warmup_epochs epochs of
 * steps_per_epoch steps rounded to the nearest step (at least 1); 0 when both are 0. */
int64_t nn_warmup_steps(const NnConfig *cfg, int64_t steps_per_epoch);

#endif
