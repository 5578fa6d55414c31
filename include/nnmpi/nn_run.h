/* A whole training run: load the data, build or restore the model, train epoch by epoch,
 * evaluate, log (rank 0) and checkpoint (rank 0). */
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
    const char *resume_path; /* checkpoint to continue from; NULL: start fresh */
    FILE *log;               /* rank 0's progress output */
} NnRunOptions;

/* Collective. Returns an agreed status: on failure every rank returns NN_ERR and err holds
 * the message of the first failing rank, prefixed "rank R: ". */
NnStatus nn_run(const NnRunOptions *opt, char err[NN_ERR_LEN]);

#endif
