/* Rank 0's account of a run: lines on its log (stdout) and events in the metrics file
 * (JSON Lines, always appended to, never truncated). Every event carries the run id:
 *   start / resume  {"event","run","version","nranks","hosts":[...],"run_dir","config",
 *                    "startup_sec"; resume also "from","epoch","step"}
 *   train           {"event","run","epoch","step","train_loss","lr"; with [train]
 *                    clip_grad_norm also "grad_norm", the step's norm before clipping}
 *   epoch           {"event","run","epoch","step","train_loss","validation_loss",
 *                    "validation_accuracy","test_loss","test_accuracy","best_epoch",
 *                    "params_hash","samples_per_sec","elapsed_sec","exchange_sec",
 *                    "allreduce_sec"}; a regression run's epoch has no accuracies but
 *                    "validation_rmse","validation_mae","validation_r2","test_rmse",
 *                    "test_mae","test_r2"
 *   checkpoint      {"event","run","step","path","best"}
 *   early_stop      {"event","run","epoch","best_epoch","best_value","monitor"}
 *   end             {"event","run","status","peak_rss_mib"}
 * Non-finite numbers are written as null. Only rank 0 calls these; every call on a
 * closed (NULL) stream is a no-op. */
#ifndef NNMPI_NN_RUNLOG_H
#define NNMPI_NN_RUNLOG_H

#include <stdint.h>
#include <stdio.h>

#include "nnmpi/nn_checkpoint.h"
#include "nnmpi/nn_progress.h"
#include "nnmpi/nn_status.h"

typedef struct {
    FILE *out;         /* the log: progress lines */
    FILE *metrics;     /* NULL: no metrics file */
    char run_id[32];
    double started;    /* MPI_Wtime() at the start of the process */
    NnProgress progress; /* the live bar or the ETAs of the loss lines; every line printed
                            here first erases a live bar */
} NnRunLog;

/* Opens the metrics file at path for appending (creating it). */
NnStatus nn_runlog_open_metrics(NnRunLog *log, const char *path, char err[NN_ERR_LEN]);

/* A free-form line on the log. */
void nn_runlog_note(NnRunLog *log, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The start or resume event. resumed_from: the checkpoint path, or NULL for a fresh start. */
void nn_runlog_start(NnRunLog *log, const char *resumed_from, const NnTrainState *state,
                     int nranks, const char *hosts, const char *run_dir,
                     const char *config_text);

/* The periodic training-loss line (with progress lines: with samples/s and ETAs; with a
 * bar or none: only the metrics event). grad_norm: NaN leaves it out. */
void nn_runlog_train(NnRunLog *log, int64_t epoch, int epochs, int64_t step,
                     int64_t steps_per_epoch, int64_t global_step, double mean_loss, double lr,
                     double grad_norm);

/* A regression model's errors on a split (NaN: not evaluated); see NnEvalResult. */
typedef struct {
    double rmse, mae, r2;
} NnRegressionErrors;

/* What an epoch's line and event report. NaN losses: that split was not evaluated. */
typedef struct {
    int64_t epoch; /* 0-based */
    int epochs;
    const NnTrainState *state;
    uint64_t params_hash;
    double samples_per_sec;
    double exchange_sec, allreduce_sec;
    int regression; /* 1: report the errors below instead of the accuracies */
    NnRegressionErrors validation, test;
} NnEpochReport;

void nn_runlog_epoch(NnRunLog *log, const NnEpochReport *r);

/* A checkpoint written (best: it is the new best one). */
void nn_runlog_checkpoint(NnRunLog *log, const char *path, int64_t step, int best);

/* Early stopping ended the run after `epoch` (1-based). */
void nn_runlog_early_stop(NnRunLog *log, int64_t epoch, const NnTrainState *state,
                          const char *monitor);

/* The end event; status is "finished", "stopped" or "failed". */
void nn_runlog_end(NnRunLog *log, const char *status, double peak_rss_mib);

/* True when writing the log or the metrics file failed. */
int nn_runlog_failed(const NnRunLog *log);

void nn_runlog_close(NnRunLog *log);

#endif
