/* Data-parallel training steps and evaluation over an MPI communicator. Every function
 * here is collective: all ranks call it with the same arguments, including ranks whose
 * part of a batch is empty. */
#ifndef NNMPI_NN_TRAINER_H
#define NNMPI_NN_TRAINER_H

#include <mpi.h>
#include <stdint.h>

#include "nnmpi/nn_config.h"
#include "nnmpi/nn_dataset.h"
#include "nnmpi/nn_exchange.h"
#include "nnmpi/nn_model.h"
#include "nnmpi/nn_optim.h"

/* Rows per forward call in evaluation (at least). */
#define NN_EVAL_ROWS 256

typedef struct {
    MPI_Comm comm;
    int rank, size;
    const NnConfig *cfg; /* not owned; must outlive the trainer */
    NnSamples train;     /* owned */
    NnSamples test;      /* owned */
    NnModel model;
    NnSgd sgd;
    NnExchange exchange;
    int64_t steps_per_epoch;
} NnTrainer;

/* Takes ownership of train and test (this rank's shards) and builds the model from cfg,
 * with the seed's initial weights on every rank. The status is agreed across ranks. */
NnStatus nn_trainer_init(NnTrainer *t, MPI_Comm comm, const NnConfig *cfg, NnSamples *train,
                         NnSamples *test, char err[NN_ERR_LEN]);

/* Moves the samples of `epoch` to the ranks that use them (one MPI_Alltoallv). */
void nn_trainer_begin_epoch(NnTrainer *t, int64_t epoch);

/* Votes that ride along with a step's allreduce, so that ranks agree without another
 * collective: a decision is taken when any rank votes for it. */
enum { NN_VOTE_STOP = 1, NN_VOTE_CHECKPOINT = 2 };

/* Step `step` of the current epoch: forward and backward over this rank's part of the
 * global batch, one MPI_Allreduce of the gradient sums with the loss sum, sample count and
 * votes, then the SGD update with learning rate lr. Returns the votes cast by any rank, and
 * the global batch's loss sum and size. */
unsigned nn_trainer_step(NnTrainer *t, int64_t step, float lr, unsigned votes, double *loss_sum,
                         int64_t *samples);

/* Evaluates the test split, each sample once on the rank that holds it (one MPI_Allreduce).
 * With an empty test split both results are NaN. */
void nn_trainer_evaluate(NnTrainer *t, double *mean_loss, double *accuracy);

void nn_trainer_free(NnTrainer *t);

#endif
