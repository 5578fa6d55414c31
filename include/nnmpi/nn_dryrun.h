/* train --dry-run: after a run has been prepared and built exactly as a real one (the
 * config, the data, the run directory, a resume), time a few training steps and one
 * evaluation of the test and validation splits, and print what the run would be: the
 * resolved config, the model and its bytes per rank, the splits, the schedule and a time
 * estimate. Writes no file (the caller checked the run directory with nn_rundir_check). */
#ifndef NNMPI_NN_DRYRUN_H
#define NNMPI_NN_DRYRUN_H

#include <stdint.h>
#include <stdio.h>

#include "nnmpi/nn_config.h"
#include "nnmpi/nn_trainer.h"

/* Steps timed after NN_DRYRUN_WARMUP untimed ones (fewer when the epoch has fewer). */
#define NN_DRYRUN_WARMUP 2
#define NN_DRYRUN_TIMED 50

typedef struct {
    NnTrainer *trainer;
    const NnConfig *cfg;
    const char *config_text;  /* the resolved config */
    const char *run_path;     /* the run's directory, "" without [run] dir */
    int resumed;              /* 1: the run would continue from `from` */
    const char *from;
    int64_t epochs_done, step_in_epoch; /* where the run would start */
    FILE *out;                /* rank 0's output; NULL on the other ranks */
} NnDryRun;

/* Collective. Takes the timed steps (changing the trainer's weights, which the caller then
 * discards) and prints the report on rank 0. */
void nn_dryrun(const NnDryRun *d);

/* Seconds the run would take: the rest of the starting epoch and the epochs after it, each
 * epoch costing steps_per_epoch steps of step_seconds plus epoch_overhead (the exchange and
 * the evaluations). */
double nn_dryrun_estimate(int64_t epochs, int64_t epochs_done, int64_t step_in_epoch,
                          int64_t steps_per_epoch, double step_seconds, double epoch_overhead);

#endif
