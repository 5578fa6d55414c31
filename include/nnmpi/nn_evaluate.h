/* Evaluation of a model on a split whose rows are spread over the ranks of a communicator:
 * each rank evaluates its shard, every sample exactly once, and one MPI_Allreduce sums the
 * results. The trainer evaluates its test and validation splits with it, and nn-mpi eval
 * evaluates a checkpoint with it, so that both give the same numbers: the same bits in
 * exact mode (reproducible runs), where each shard is made of whole chunks of rows_per_call
 * rows, each chunk's loss goes into an exact fixed-point sum (nn_fixed.h), and the result
 * does not depend on the rank count. Collective: every rank calls with the same options,
 * also a rank with no rows. Allocates nothing. */
#ifndef NNMPI_NN_EVALUATE_H
#define NNMPI_NN_EVALUATE_H

#include <mpi.h>
#include <stdint.h>

#include "nnmpi/nn_dataset.h"
#include "nnmpi/nn_model.h"
#include "nnmpi/nn_status.h"

typedef struct {
    double mean_loss; /* over the split; NaN when it is empty */
    double accuracy;  /* fraction classified correctly; NaN when the split is empty or for
                         regression */
    double top_k_accuracy; /* fraction whose label is among the k largest outputs (ties
                              counted for the label); NaN without top_k */
    int64_t samples;  /* samples evaluated, summed over the ranks: the split's size */
    /* Regression only (else NaN), over every row and target: */
    double rmse;      /* sqrt(mean (a - t)^2) */
    double mae;       /* mean |a - t| */
    double r2;        /* 1 - sum (a - t)^2 / sum (t - mean t)^2 (for several targets: their
                         summed squares, i.e. variance-weighted) */
} NnEvalResult;

typedef struct {
    MPI_Comm comm;
    int exact;             /* 1: chunks of rows_per_call rows, exact sums (reproducible) */
    int64_t rows_per_call; /* <= the model's rows_cap */
    double limit;          /* exact mode: the largest term of a sum (nn_evaluate_limit) */
    double target_sst;     /* regression: R^2's denominator (nn_evaluate_target_spread) */
    int top_k;             /* > 0: also the top-k accuracy (classification) */
    int64_t *confusion;    /* NULL, or (outputs, outputs) zeroed counts, row = true class,
                              column = predicted class (the largest output): filled with the
                              split's counts summed over the ranks */
    int32_t *predicted;    /* NULL, or (s->count): filled with this rank's predicted class
                              (the largest output, as counted in confusion) of each of its
                              rows, in shard order; classification only. Changes no result. */
} NnEvalOptions;

/* The largest term of an exact sum over a split of `total` rows in chunks of `chunk`. */
double nn_evaluate_limit(int64_t total, int64_t chunk);

/* Evaluates the model on this rank's shard s (decoded into the model's input and truth
 * scratch), summed over the ranks. */
NnEvalResult nn_evaluate(NnModel *m, const NnSamples *s, const NnEvalOptions *o);

/* Collective. Regression: *sst = the sum over split s's rows and targets of
 * (t - mean of that target over the split)^2, the same bits at any rank count in exact mode
 * (two passes of exact sums over the rows: the means, then the squares). NaN when the split
 * is empty or a term is beyond the exact sums' range. Fails (agreed) only for memory. */
NnStatus nn_evaluate_target_spread(MPI_Comm comm, int exact, const NnSamples *s, double *sst,
                                   char err[NN_ERR_LEN]);

#endif
