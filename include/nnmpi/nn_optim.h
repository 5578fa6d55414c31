/* SGD with momentum and weight decay, and the learning-rate schedules. */
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
    float *velocity; /* n_params, laid out like NnModel.params */
    int owns_velocity; /* else the storage belongs to the caller */
} NnSgd;

NnStatus nn_sgd_init(NnSgd *opt, const NnModel *m, double momentum, double weight_decay,
                     char err[NN_ERR_LEN]);

/* One update from m->grads, which hold gradient sums; grad_scale turns them into means
 * (1 / samples in the global batch). With g = grad * grad_scale + weight_decay * w for
 * weights (g = grad * grad_scale for biases): v = momentum * v + g; w -= lr * v. */
void nn_sgd_step(NnSgd *opt, NnModel *m, float lr, float grad_scale);

/* The same update on the parameters [lo, hi) only (offsets into NnModel.params). */
void nn_sgd_step_range(NnSgd *opt, NnModel *m, float lr, float grad_scale, size_t lo,
                       size_t hi);

/* Moves the velocity to storage the caller owns and fills (n_params floats), which must
 * outlive the optimizer. */
void nn_sgd_use_storage(NnSgd *opt, float *velocity);

void nn_sgd_free(NnSgd *opt);

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
