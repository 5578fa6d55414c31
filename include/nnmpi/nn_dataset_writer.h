/* The streaming writer of dataset files, format version 2 (what the converters write):
 *   root attributes: format = "nn-mpi dataset", format_version = 2 (int64), source (text),
 *     classes (int64), and label_values (int64 array, when labels were mapped: class i was
 *     the label label_values[i] in the input)
 *   /train/images float32 (N, F), chunked by rows; /train/labels int64 (N), 0..classes-1
 *   /test/...  the same; /validation/... the same, when the split has rows
 * or, with options.targets = T >= 1 (a regression dataset, nn_dataset.h): /SPLIT/targets
 *   float32 (N) when T = 1, else (N, T), chunked by rows, instead of the labels, and no
 *   classes or label_values attribute.
 *   /mean, /std float32 (F), optional: the trainer applies x' = (x - mean) / std
 * Rows stream in one at a time and go out in blocks of whole chunks to extendable datasets
 * in a temporary file next to the output (sec2 driver, OUT.tmp.PID), which is synced and
 * renamed into place by nn_writer_finish. Memory: one block per split and O(F) statistics,
 * whatever the number of rows. On any failure every HDF5 id is closed and the temporary
 * file removed; the message names it with the errno text ("OUT.tmp.PID: cannot write: No
 * space left on device").
 * The program must call H5dont_atexit() before any other HDF5 call (nn_writer_init does),
 * so that a file HDF5 failed to close is never flushed again by HDF5's exit handler. */
#ifndef NNMPI_NN_DATASET_WRITER_H
#define NNMPI_NN_DATASET_WRITER_H

#include <stdint.h>

#include "nnmpi/nn_status.h"

#define NN_DATASET_WRITER_FORMAT_VERSION 2
/* At most this many distinct labels are mapped (map_labels). */
#define NN_WRITER_MAX_LABEL_VALUES 65536

typedef enum { NN_SPLIT_TRAIN, NN_SPLIT_TEST, NN_SPLIT_VALIDATION, NN_SPLIT_COUNT } NnSplit;

typedef struct {
    const char *source;         /* the root attribute 'source' */
    int64_t targets;            /* 0: a label per row (classification); T: T float targets
                                   per row (regression), 1 .. NN_DATASET_MAX_TARGETS */
    int64_t classes;            /* 0: max label + 1 (at least 2), or the mapped count; must
                                   be 0 with targets */
    int map_labels;             /* labels (any integers) -> 0..k-1 in ascending order; must
                                   be 0 with targets */
    int standardize;            /* store /mean and /std of the training rows */
    double test_fraction;       /* rows of the train source held out as test, 0..1 */
    double validation_fraction; /* ... and as validation */
    uint64_t seed;              /* for the hold-out decisions */
} NnWriterOptions;

typedef struct NnWriter NnWriter;

/* Call once at program start, before any HDF5 call: stops HDF5's exit handler and HDF5's
 * own error printing. */
void nn_writer_init(void);

/* Which split row `index` (0-based, of the train source) goes to with these fractions:
 * a pure function of (seed, index), so no memory grows with the rows. */
NnSplit nn_writer_holdout(uint64_t seed, int64_t index, double test_fraction,
                          double validation_fraction);

/* Creates the temporary file for path with rows of `features` float32 values. Fails on
 * options that do not fit together (classes or map_labels with targets). */
NnStatus nn_writer_open(NnWriter **out, const char *path, int64_t features,
                        const NnWriterOptions *options, char err[NN_ERR_LEN]);

/* Checks one label before its row is added: fails when it is negative without map_labels,
 * or not below classes when classes is stated; err then holds just the reason, for the
 * caller to put after the file and row ("label 7 is not below --classes 5"). With
 * map_labels it notes the value (at most NN_WRITER_MAX_LABEL_VALUES distinct ones). */
NnStatus nn_writer_label(NnWriter *w, int64_t label, char err[NN_ERR_LEN]);

/* Adds one row, its label checked by nn_writer_label, from the train source (NN_SPLIT_TRAIN:
 * then held out by the fractions) or from a test file (NN_SPLIT_TEST). Fails on a write
 * error (err names the temporary file); the writer is then fit only for nn_writer_abort.
 * Only for a writer without targets. */
NnStatus nn_writer_add(NnWriter *w, NnSplit from, const float *x, int64_t label,
                       char err[NN_ERR_LEN]);

/* The same for a writer with options.targets = T: targets (T) are the row's target values,
 * finite (the converters check them against their input, to name file, row and column;
 * a non-finite one here fails with just the reason). */
NnStatus nn_writer_add_targets(NnWriter *w, NnSplit from, const float *x, const float *targets,
                               char err[NN_ERR_LEN]);

/* Rows written so far to split s. */
int64_t nn_writer_rows(const NnWriter *w, NnSplit s);

/* Writes what is buffered, the labels mapping, the attributes and statistics, closes the
 * file and renames it into place. Fails when the train or test split has no rows. Frees w
 * either way; on failure nothing is left at path or beside it. */
NnStatus nn_writer_finish(NnWriter *w, char err[NN_ERR_LEN]);

/* Closes everything, removes the temporary file and frees w (NULL: nothing). */
void nn_writer_abort(NnWriter *w);

#endif
