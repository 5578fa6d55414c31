/* A whole training run: choose where it starts (nn_resume.h) in its run directory
 * (nn_rundir.h), load the data, build or restore the model, train epoch by epoch, evaluate,
 * log (rank 0, nn_runlog.h) and checkpoint (rank 0); keep the best checkpoint and stop
 * early on the validation split when asked; stop at a checkpoint on request. */
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
                                in [run] dir, if any; NULL: per [checkpoint] resume */
    int new_run;             /* start a new run even where [run] dir holds others */
    const char *run_name;    /* NULL, or the run's subdirectory of [run] dir (nn_rundir.h) */
    FILE *log;               /* rank 0's progress output */
    int dry_run;             /* check and time the run, report it (nn_dryrun.h), write nothing */
    double started;          /* MPI_Wtime() at the start of the process */
} NnRunOptions;

/* Collective. Returns NN_OK when training finished (early stopping included); NN_STOPPED or
 * NN_STOPPED_UNSAVED when a signal or the time limit stopped it (every rank returns the
 * same); NN_REFUSED when it refused to start, before loading any data; NN_ERR on failure.
 * Failures are agreed across ranks, with err holding the first failing rank's message
 * ("rank R: ..."). */
NnStatus nn_run(const NnRunOptions *opt, char err[NN_ERR_LEN]);

#endif
