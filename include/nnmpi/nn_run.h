/* A whole training run: load the data, build or restore the model, train epoch by epoch,
 * evaluate, log (rank 0) and checkpoint (rank 0); stop at a checkpoint on request. */
#ifndef NNMPI_NN_RUN_H
#define NNMPI_NN_RUN_H

#include <mpi.h>
#include <stdio.h>

#include "nnmpi/nn_config.h"
#include "nnmpi/nn_status.h"

typedef struct {
    MPI_Comm comm;
    const NnConfig *cfg;
    const char *config_text; /* the effective configuration as INI text, for checkpoints */
    const char *resume;      /* a checkpoint to continue from; "auto": the newest valid one
                                in [checkpoint] dir, if any; NULL: per [checkpoint] resume */
    FILE *log;               /* rank 0's progress output */
    double started;          /* MPI_Wtime() at the start of the process */
} NnRunOptions;

/* Collective. Returns NN_OK when training finished; NN_STOPPED or NN_STOPPED_UNSAVED when
 * a signal or the time limit stopped it (every rank returns the same); NN_ERR on failure,
 * agreed across ranks, with err holding the first failing rank's message ("rank R: ..."). */
NnStatus nn_run(const NnRunOptions *opt, char err[NN_ERR_LEN]);

#endif
