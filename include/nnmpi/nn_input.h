/* Rows of stored features from a file of any supported kind, for applying a trained model
 * (nn-mpi predict): one split of an nn-mpi dataset file, IDX images (raw or gzipped, with
 * an optional IDX labels file), CSV rows, a NumPy .npy array, or one PNG or PGM image (one
 * row). Each row is handed over as the model's training data stored its rows
 * (nn_preprocess.h): F bytes for a model of uint8 features, F float32 (native byte order)
 * for one of float32 features, so that the caller's nn_preprocess_apply with the model's
 * preprocessing treats it exactly as training did. A value that the model's type cannot
 * hold is an error, never rounded or clipped: a uint8 model takes integers 0..255, a
 * float32 model any value whose float32 is finite (uint8 pixels become 0.0 .. 255.0).
 * Rows reach the caller's sink a block at a time, so memory does not grow with the rows
 * (IDX files excepted: nn_idx reads them whole). */
#ifndef NNMPI_NN_INPUT_H
#define NNMPI_NN_INPUT_H

#include <stdint.h>

#include "nnmpi/nn_preprocess.h"
#include "nnmpi/nn_status.h"

/* Rows per block handed to the sink (the last block of an input may have fewer). */
#define NN_INPUT_BLOCK 256

typedef enum {
    NN_INPUT_DATASET, /* an nn-mpi dataset file (HDF5, nn_dataset.h) */
    NN_INPUT_IDX,     /* IDX images (nn_idx.h), raw or gzipped */
    NN_INPUT_CSV,     /* CSV, one row of features a line (nn_csv.h) */
    NN_INPUT_NPY,     /* a .npy array (nn_npy.h) of shape (N, F) or (N, d1, d2, ...) */
    NN_INPUT_PNG,     /* one image (nn_image.h) */
    NN_INPUT_PGM
} NnInputKind;

/* "dataset", "IDX", "CSV", "npy", "PNG", "PGM" */
const char *nn_input_kind_name(NnInputKind kind);

/* The kind of the file at path, from its first bytes: the HDF5, PNG, .npy or IDX signature,
 * gzip (read as gzipped IDX), "P5" or "P2" (PGM); without one, CSV when its name ends in
 * .csv or .txt. Anything else, an IDX labels file given as images, or a file that is not a
 * readable regular file fails with err naming it. */
NnStatus nn_input_detect(const char *path, NnInputKind *kind, char err[NN_ERR_LEN]);

typedef struct {
    int features;           /* F: the model's inputs */
    NnFeatureType type;     /* how rows are handed over: the model's stored type */
    const char *split;      /* dataset files: "test", "validation" or "train" */
    int csv_header;         /* CSV: 1 the first row names the columns, 0 it is data, -1
                               detect (a header when a non-empty field is not a number) */
    const char *idx_labels; /* IDX: an IDX labels file (one label per image), or NULL */
    int want_labels;        /* 0: labels are not read (a regression model's) */
} NnInputSpec;

/* Consecutive rows of an input. */
typedef struct {
    const uint8_t *rows;   /* (count, F) features of the spec's type; any alignment */
    const int64_t *labels; /* (count), or NULL: the input has no (integer) labels */
    int64_t first;         /* the input's row number (0-based) of rows[0] */
    int count;             /* 1 .. NN_INPUT_BLOCK */
} NnInputBlock;

/* Takes one block (valid only during the call); a failure (err set) ends the read. */
typedef NnStatus (*NnInputSink)(void *ctx, const NnInputBlock *block, char err[NN_ERR_LEN]);

/* Reads the file at path, of `kind` (nn_input_detect), and hands all its rows in order to
 * sink. Every input has at least one row. Labels come with the rows of a dataset split
 * whose labels are integers, and of IDX images with idx_labels. Errors name the file and
 * the row (0-based, as the blocks count them) or the size, e.g.
 *   x.csv:5: row 3: 783 values, expected 784 (the model's inputs)
 *   x.csv:4: row 2, column 7: not a number: 'abc'
 *   data.h5: dataset /test/images has 783 features per row, expected 784 (the model's inputs)
 *   digit.png: 27x28 pixels (756), expected 28x28 = 784 (the model's inputs); ...
 * The sink's failure is returned as it is. */
NnStatus nn_input_read(const char *path, NnInputKind kind, const NnInputSpec *spec,
                       NnInputSink sink, void *ctx, char err[NN_ERR_LEN]);

/* The preprocessing a dataset file states for the features of `split` (nn_dataset.h: their
 * type, scale, and /mean and /std), for comparing with a model's. Free with
 * nn_preprocess_free. */
NnStatus nn_input_dataset_preprocess(const char *path, const char *split, NnPreprocess *prep,
                                     char err[NN_ERR_LEN]);

#endif
