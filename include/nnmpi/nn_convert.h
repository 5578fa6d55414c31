/* The converters of nn-mpi-data: CSV, NumPy (.npy, .npz) and LIBSVM/SVMlight text into a
 * dataset file of format 2 (nn_dataset_writer.h), streaming: memory does not grow with the
 * rows. Each reads a training file and an optional test file (without one, the options'
 * test_fraction holds rows out). Every error names the file and the line (row) and the
 * column or token; on any error nothing is left at the output path. */
#ifndef NNMPI_NN_CONVERT_H
#define NNMPI_NN_CONVERT_H

#include <stdint.h>

#include "nnmpi/nn_dataset_writer.h"
#include "nnmpi/nn_status.h"

typedef struct {
    int header;        /* 1: the first row names the columns; 0: it is data; -1: detect
                          (a header when any of its non-empty fields is not a number) */
    const char *label; /* the label column: a header name, or a 1-based index; NULL: last */
    /* or the target columns of a regression dataset (label NULL, wo->targets 0): a
     * comma-separated list of header names or 1-based indices, in the order of the
     * targets; a header name that holds a comma is matched whole before the list is split */
    const char *targets;
    char delimiter;    /* ',' by default */
} NnCsvOptions;

/* CSV (RFC 4180, parsed by libcsv): one row per line, every column but the label (or the
 * targets) a feature; blank lines skipped; integer labels, or finite float targets. */
NnStatus nn_convert_csv(const char *train, const char *test, const char *out,
                        const NnCsvOptions *csv, const NnWriterOptions *wo,
                        char err[NN_ERR_LEN]);

typedef struct {
    /* 1: the label arrays below hold regression targets, float or integer, (N) or (N, T)
     * (converted to float32, finite; T the same for both splits); wo->targets then 0. */
    int regression;
    /* .npy files: features (N, ...) and labels (N); test ones optional (NULL). */
    const char *features, *labels, *test_features, *test_labels;
    /* or one .npz archive (NULL otherwise) and the names of its arrays; NULL keys: X and y,
     * else x_train and y_train; the test arrays default to X_test/y_test or x_test/y_test
     * when the archive has them. */
    const char *npz;
    const char *features_key, *labels_key, *test_features_key, *test_labels_key;
} NnNpyOptions;

/* NumPy arrays, C order, features float32/float64/(u)int8..64/bool flattened per row to
 * float32, labels any integer type. */
NnStatus nn_convert_npy(const NnNpyOptions *npy, const char *out, const NnWriterOptions *wo,
                        char err[NN_ERR_LEN]);

/* LIBSVM/SVMlight: "label idx:val idx:val ..." with 1-based ascending indices, "#" comments
 * and qid:N ignored. features: 0 for the largest index in the files (a first pass finds
 * it), else N (a larger index is an error). regression: the first field is a finite real
 * target (one per row, /SPLIT/targets) instead of an integer label; wo->targets then 0. */
NnStatus nn_convert_libsvm(const char *train, const char *test, const char *out,
                           int64_t features, int regression, const NnWriterOptions *wo,
                           char err[NN_ERR_LEN]);

#endif
