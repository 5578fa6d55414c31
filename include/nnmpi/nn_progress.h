/* Training progress on rank 0's log: how far the run is, how fast it goes and how long it
 * still takes. Two forms ([log] progress):
 *   bar    one live line, redrawn in place (carriage return, erase to the end of the line)
 *          at most PROGRESS_REDRAW_SECONDS apart, for a terminal:
 *          epoch 2/3 [######......] 31/469   6.6% loss 0.1090 45123 samples/s ETA 0:12 run 1:05
 *   lines  the periodic loss line ([log] every_steps) with the speed and ETAs appended, for
 *          logs and pipes (no control characters):
 *          epoch 2/3 step 31/469 train_loss 0.108958 lr 0.1 samples/s 45123 eta 0:12 run_eta 1:05
 * The ETA of the epoch is its remaining steps at this epoch's measured seconds per step; the
 * run's adds the remaining epochs' steps at that pace and, per epoch left, the time the last
 * epoch spent outside its steps (evaluation, checkpoints). */
#ifndef NNMPI_NN_PROGRESS_H
#define NNMPI_NN_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nnmpi/nn_config.h"

typedef struct {
    FILE *out;
    NnProgressMode mode;  /* resolved: BAR, LINES or NONE */
    int epochs;
    int64_t steps_per_epoch, batch_size;
    int64_t epoch, first_step; /* the epoch being timed and the step its timing began at */
    double epoch_start;        /* time of first_step's start */
    double overhead;           /* the last epoch's seconds outside its steps; 0: unknown */
    double steps_end;          /* time the current epoch's last step ended */
    double last_draw;          /* time of the last bar drawn; < 0: none on screen */
} NnProgress;

/* mode AUTO becomes BAR when out reaches a terminal (under mpirun: when mpirun's own output
 * is one), else LINES. */
void nn_progress_init(NnProgress *p, FILE *out, NnProgressMode mode, int epochs,
                      int64_t steps_per_epoch, int64_t batch_size);

/* Epoch `epoch` (0-based) starts training at step first_step at time now (seconds). */
void nn_progress_epoch_start(NnProgress *p, int64_t epoch, int64_t first_step, double now);

/* Step `done` steps of the epoch are done at time now; loss is the epoch's running mean.
 * Redraws the bar (BAR mode, throttled; always at the last step). */
void nn_progress_step(NnProgress *p, int64_t done, double loss, double now);

/* The epoch ended (evaluated, checkpointed) at time now: remembers the time it spent
 * outside its steps, for the run's ETA. */
void nn_progress_epoch_end(NnProgress *p, double now);

/* Erases a live bar, so that the next line starts at column 0. */
void nn_progress_clear(NnProgress *p);

/* " samples/s S eta E run_eta R" for the lines form, after `done` steps at time now. */
void nn_progress_suffix(const NnProgress *p, int64_t done, double now, char *out, size_t size);

/* Seconds as "m:ss", or "h:mm:ss" from an hour; "?" when not finite or negative. */
void nn_progress_format_duration(double seconds, char *out, size_t size);

/* The epoch's and the run's remaining seconds after `done` steps of epoch `epoch` (0-based)
 * at per_step seconds a step (NaN: unknown, giving NaN), with `overhead` seconds outside the
 * steps per epoch. */
void nn_progress_eta(double per_step, int64_t done, int64_t steps_per_epoch, int64_t epoch,
                     int epochs, double overhead, double *epoch_eta, double *run_eta);

#endif
