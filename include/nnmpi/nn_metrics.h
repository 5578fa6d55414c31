/* Reading a run's metrics back: the epoch events of a metrics file (JSON Lines, the format
 * nn_runlog.h writes and README "Output" documents) as one table per run id, for nn-mpi
 * plot. Every line must be a JSON object (parsed by jansson); lines of other events are
 * checked for that and skipped. A file can hold several runs (each event names its run)
 * and a resumed run appends epochs again: the latest epoch event of a run and epoch (in
 * file order) replaces any earlier one whole, null values included. */
#ifndef NNMPI_NN_METRICS_H
#define NNMPI_NN_METRICS_H

#include <stdint.h>

#include "nnmpi/nn_status.h"

/* The per-epoch numbers a plot can draw; names as in the epoch event. */
typedef enum {
    NN_SERIES_TRAIN_LOSS,
    NN_SERIES_VALIDATION_LOSS,
    NN_SERIES_TEST_LOSS,
    NN_SERIES_VALIDATION_ACCURACY,
    NN_SERIES_TEST_ACCURACY,
    NN_SERIES_VALIDATION_R2,
    NN_SERIES_TEST_R2,
    NN_SERIES_COUNT
} NnSeries;

/* "train_loss", "validation_loss", ..., "test_r2": the event's key. */
const char *nn_series_key(NnSeries s);

/* The largest epoch number read (a bound on memory: 8 * 7 bytes per epoch per run). */
#define NN_METRICS_MAX_EPOCH 10000000

typedef struct {
    char id[64];     /* the run id */
    char *name;      /* for legends: the caller's label, or "label (id)" when its file holds
                        several runs; owned */
    int regression;  /* its epoch events report R^2 (validation_r2/test_r2) */
    int64_t epochs;  /* value rows: epochs 1 .. epochs (some may be missing) */
    double *values;  /* (epochs, NN_SERIES_COUNT): row e-1 holds epoch e; NaN for a null,
                        a missing key or an epoch without an event; owned */
} NnMetricsRun;

typedef struct {
    NnMetricsRun *runs; /* (count), in order of first appearance, file after file; owned */
    int count;
} NnMetrics;

/* Reads the epoch events of the metrics file at path (a regular file) and appends its runs
 * to m (zeroed before the first call), named `label` in legends. Fails, leaving m as it was
 * before the call, with err naming the file and, for a bad line, its number:
 *   "runs/a/metrics.jsonl:12: not JSON: '[' or '{' expected near 'x' (column 1)"
 *   "runs/a/metrics.jsonl:3: an epoch event's \"test_loss\" is a string, expected a
 *    number or null"
 *   "runs/a/metrics.jsonl: no epoch events (has the run finished an epoch?)"
 * An epoch event needs a string "run" and a whole "epoch" of 1 .. NN_METRICS_MAX_EPOCH.
 * Exception: a last line without a newline that is not JSON (a writer killed mid-line) is
 * skipped; *skipped_tail (if not NULL) is then set to its line number, else to 0. */
NnStatus nn_metrics_read(const char *path, const char *label, NnMetrics *m, int64_t *skipped_tail,
                         char err[NN_ERR_LEN]);

/* Epoch e's value of series s (NaN when none). */
static inline double nn_metrics_value(const NnMetricsRun *r, int64_t epoch, NnSeries s)
{
    return r->values[(epoch - 1) * NN_SERIES_COUNT + s];
}

void nn_metrics_free(NnMetrics *m);

#endif
