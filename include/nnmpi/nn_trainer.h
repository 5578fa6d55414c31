/* Data-parallel training steps and evaluation over an MPI communicator. Every function
 * here is collective: all ranks call it with the same arguments, including ranks whose
 * part of a batch is empty.
 *
 * Two ways to sum gradients across a global batch:
 * - reproducible ([train] reproducible = yes): each batch is cut into chunks of
 *   [train] chunk_size samples that do not depend on the rank count; a rank computes whole
 *   chunks, each with the same BLAS calls on any layout, into its own float row of the
 *   node's shared memory, and the node sums the chunks' gradients exactly (nn_fixed.h),
 *   each rank one slice, in int64 that the nodes then add up. The
 *   weights, optimizer state and logged losses are then the same bits for any number of
 *   ranks. Evaluation works the same way on chunk-aligned test and validation shards.
 * - plain: each rank computes its part with one set of BLAS calls and the parts are summed
 *   as floats; results agree across rank counts up to rounding, and are the same bits at
 *   the same rank count and ranks per node.
 * Either way the sums go through node shared memory and one MPI_Allreduce between nodes
 * (nn_reduce.h); each rank updates one slice of the node's shared weights. */
#ifndef NNMPI_NN_TRAINER_H
#define NNMPI_NN_TRAINER_H

#include <mpi.h>
#include <stdint.h>

#include "nnmpi/nn_config.h"
#include "nnmpi/nn_dataset.h"
#include "nnmpi/nn_evaluate.h"
#include "nnmpi/nn_exchange.h"
#include "nnmpi/nn_model.h"
#include "nnmpi/nn_optim.h"
#include "nnmpi/nn_reduce.h"
#include "nnmpi/nn_splits.h"

/* Reproducible mode: the most chunk gradients a rank keeps at a time (as many float
 * vectors of the model's size in shared memory); a rank with more chunks in a batch sums
 * them in groups. */
#define NN_EXACT_ROWS 8

/* Rows per forward call in evaluation (at least). */
#define NN_EVAL_ROWS 256

typedef struct {
    MPI_Comm comm;
    int rank, size;
    const NnConfig *cfg; /* not owned; must outlive the trainer */
    NnSamples train;      /* owned; its records move into the exchange */
    NnSamples validation; /* owned; chunk-aligned shards in reproducible mode; may be empty */
    NnSamples test;       /* owned; chunk-aligned shards in reproducible mode */
    int64_t n_train;      /* training rows an epoch visits: train.total minus held-out rows */
    NnModel model;      /* its parameters: a view into sums.shared; its gradients: this
                           rank's row of sums, or exact_grads */
    NnOptim optim;      /* its state: a view into sums.shared, after the parameters */
    float *exact_grads; /* reproducible mode: the batch's summed gradients, as floats, of
                           this rank's slice (n_params + NN_GRAD_EXTRA), owned; NULL in
                           plain mode */
    int exact_groups;   /* reproducible mode: a rank's chunks of a batch come in this many
                           groups of up to sums.exact_rows chunks (the same on every rank) */
    NnExchange exchange;
    int64_t steps_per_epoch;
    int64_t chunk;      /* samples per chunk (1 in plain mode) */
    NnReduce sums;      /* gradient rows (one per rank, or per chunk in reproducible mode)
                           and the parameters and optimizer state the node's ranks share:
                           their one owner */
    double step_limit;  /* largest term of an exact sum over one batch's chunks */
    double eval_limit[2]; /* the same over each evaluated split's chunks, by NnSplit */
    double target_sst[2]; /* regression: sum over each evaluated split's rows and targets of
                             (t - the target's mean)^2, by NnSplit (R^2's denominator) */
    double exchange_seconds;  /* wall time in the sample exchange, summed (caller resets) */
    double allreduce_seconds; /* wall time in the steps' allreduce, summed (caller resets) */
    float *masks;       /* dropout: (rows_cap, model.mask_units), this rank's part of a
                           batch (nn_regularize.h); NULL without dropout */
    int32_t *batch_ids; /* dropout: (rows_cap), the training-split rows of that part */
} NnTrainer;

/* The rows per unit of the test and validation shards that nn_trainer_init expects: pass it
 * to nn_splits_read. */
int64_t nn_trainer_test_unit(const NnConfig *cfg);

/* The loss suits data with `targets` targets per row (0: class labels): squared_error for
 * targets (regression), cross_entropy or mse for labels; and the monitored metric exists.
 * nn_trainer_init checks it too; a caller checks it before writing anything. */
NnStatus nn_trainer_check_task(const NnConfig *cfg, int targets, char err[NN_ERR_LEN]);

/* Takes ownership of everything in splits (this rank's shards, the training rows; splits
 * is left zeroed, also on failure) and builds the model from cfg, with the seed's initial
 * weights on every rank. An epoch visits splits->n_train_rows rows, so steps_per_epoch
 * follows them. The status is agreed across ranks. */
NnStatus nn_trainer_init(NnTrainer *t, MPI_Comm comm, const NnConfig *cfg, NnSplits *splits,
                         char err[NN_ERR_LEN]);

/* Rank 0's parameters and optimizer state, its step count included (after it has loaded a
 * checkpoint into them), to every rank. */
void nn_trainer_share_state(NnTrainer *t);

/* Moves the samples of `epoch` to the ranks that use them (one MPI_Alltoallv). */
void nn_trainer_begin_epoch(NnTrainer *t, int64_t epoch);

/* Votes that ride along with a step's allreduce, so that ranks agree without another
 * collective: a decision is taken when any rank votes for it. */
enum { NN_VOTE_STOP = 1, NN_VOTE_CHECKPOINT = 2 };

typedef struct {
    double loss_sum; /* over the global batch */
    int64_t samples; /* in the global batch */
    unsigned votes;  /* cast by any rank */
    int64_t rejected; /* reproducible mode: gradient values that were NaN, infinite or out
                         of the exact sum's range; when non-zero, no update was made */
    double grad_norm; /* [train] clip_grad_norm > 0: the global L2 norm of the batch's mean
                         gradient before clipping (infinite when a value is not finite or
                         out of the exact sum's range, nn_fixed.h); else NaN */
} NnStepResult;

/* Step `step` of the current epoch: forward and backward over this rank's part of the
 * global batch (with each sample's dropout mask and the label smoothing of cfg), one
 * MPI_Allreduce of the gradient sums with the loss sum, sample count and votes, then the
 * optimizer's update with learning rate lr, and the max-norm constraint when cfg sets one.
 * With [train] clip_grad_norm = c > 0, the update uses the mean gradient g times
 * min(1, c / (||g|| + 1e-6)), as PyTorch's clip_grad_norm_ (weight decay is added after
 * it, as PyTorch's optimizers do). ||g|| sums squares exactly (nn_fixed.h) over each
 * rank's slice of the summed gradient, combined with one small MPI_Allreduce over the node:
 * the same bits at any rank count whenever the gradient is (reproducible mode). */
NnStepResult nn_trainer_step(NnTrainer *t, int64_t step, float lr, unsigned votes);

/* Evaluates the test or validation split, each sample once on the rank that holds it (one
 * MPI_Allreduce). In reproducible mode the results are the same bits at any rank count.
 * Evaluation uses no dropout and reports the plain cross-entropy (no label smoothing). */
NnEvalResult nn_trainer_evaluate(NnTrainer *t, NnSplit which);

void nn_trainer_free(NnTrainer *t);

#endif
