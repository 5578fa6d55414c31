/* The nn-mpi dataset file (HDF5), format version 2 (version 1 files are a special case):
 *   /train/images  (N, F) uint8 or float32 (any HDF5 float type: read as float32), one row
 *                  per sample; optional attribute scale (the features' factor,
 *                  nn_preprocess.h; 1/255 for uint8, 1 for float32 when absent); uint8
 *                  files written by nn-mpi-data also have image_shape (rows, cols)
 *   /train/labels  (N) any integer type (int8 .. int64, uint8 .. uint64): the class
 *   /train/targets instead of labels for regression: (N) or (N, T) float (any HDF5 float
 *                  type, read as float32; finite), T target values per row. A file whose
 *                  /train has targets is a regression dataset: every split has targets,
 *                  and there are no classes.
 *   /test/images, /test/labels              the same layout, M rows
 *   /validation/images, /validation/labels  optional, the same layout
 *   /mean, /std    optional, (F) float: input normalisation (nn_preprocess.h)
 * Root attributes: format = "nn-mpi dataset", format_version = 1 or 2 (absent: read as
 * 2), source (text), classes (labels are 0 .. classes-1). Without classes, the classes
 * are inferred from the labels: the largest label of all splits plus one (at least 2).
 * Every split must have the same feature type, scale and F. */
#ifndef NNMPI_NN_DATASET_H
#define NNMPI_NN_DATASET_H

#include <hdf5.h>
#include <mpi.h>
#include <stdint.h>

#include "nnmpi/nn_idx.h"
#include "nnmpi/nn_preprocess.h"
#include "nnmpi/nn_status.h"

#define NN_DATASET_FORMAT_VERSION 1 /* what nn_dataset_write writes */
#define NN_DATASET_NEWEST_VERSION 2 /* the newest the reader knows */
/* What a dataset holds: rows per split, features per row, classes. */
#define NN_DATASET_MAX_ROWS INT64_C(2147483647)
#define NN_DATASET_MAX_FEATURES INT64_C(16777216)
#define NN_DATASET_MAX_CLASSES INT64_C(16777216)
#define NN_DATASET_MAX_TARGETS 65536

/* One rank's contiguous rows of one split (or of a list of its rows: then total, start and
 * count count positions in the list), each stored as a record: the F features as stored
 * (prep.type: F bytes, or F float32 in native byte order) followed by the label (uint8
 * when label_bytes is 1, else int32 in native byte order) or, in a regression dataset, the
 * T targets (float32, native byte order; label_bytes = 4 T). Records have no alignment:
 * read them with nn_record_decode. uint8 features with at most 256 classes (MNIST) take
 * F + 1 bytes; float32 features take 4 F + 4 (+ 4 T - 4 for T targets). */
typedef struct {
    int64_t total;    /* rows of the split in use (all ranks) */
    int64_t start;    /* this rank's first row */
    int64_t count;    /* this rank's rows; 0 when total < ranks */
    int features;     /* F */
    int classes;      /* labels are 0 .. classes-1; 0 after a read of a file that does not
                         state them, until nn_splits_read infers them */
    int targets;      /* T: target values per row (regression); 0: a classification split */
    int label_bytes;  /* bytes after the features: 1 or 4 for a label, 4 T for targets */
    int64_t max_label; /* the largest label of this rank's share of the split (-1: none);
                          a plain read's shares cover every row of the split, also those
                          beyond a limit, so the largest over the ranks is the split's */
    NnPreprocess prep; /* how records become model input; owns mean and std */
    int image_rows, image_cols; /* the images' image_shape attribute: rows * cols = features;
                                   0, 0: none; -1, -1: one that is not such a pair */
    uint8_t *records;  /* (count, record size), owned */
} NnSamples;

/* Bytes per record: the features and the label. */
static inline int64_t nn_samples_record_size(const NnSamples *s)
{
    return (int64_t)s->features * nn_feature_bytes(s->prep.type) + s->label_bytes;
}

/* The label bytes of records of features of `type` for labels 0 .. classes-1: 1 byte for
 * uint8 features and at most 256 classes, else 4 (which keeps float records aligned). */
static inline int nn_label_bytes(NnFeatureType type, int64_t classes)
{
    return type == NN_FEATURES_UINT8 && classes <= 256 ? 1 : 4;
}

/* Decodes one record into model input x:(features) (nn_preprocess_apply) and its label
 * (*label) or, in a regression split, its targets (targets:(T); NULL skips them). */
static inline void nn_record_decode(const NnSamples *s, const uint8_t *record, float *x,
                                    int32_t *label, float *targets)
{
    nn_preprocess_apply(&s->prep, record, x);
    const uint8_t *at = record + (size_t)s->features * (size_t)nn_feature_bytes(s->prep.type);
    if (s->targets) {
        if (targets) memcpy(targets, at, sizeof(float) * (size_t)s->targets);
    }
    else if (s->label_bytes == 1)
        *label = *at;
    else
        memcpy(label, at, sizeof *label);
}

/* Collective over comm. Reads this rank's shard of split "train" or "test", limited to the
 * first `limit` rows when limit > 0: the ranks split the rows in whole units of `unit` rows
 * (nn_shard_range_units; 1 for the plain balanced split). One collective hyperslab read per
 * dataset (and, for a file without 'classes' read with a limit, one more of the labels
 * beyond it, for max_label); a rank with no rows still takes part. Checks shapes, types,
 * the preprocessing and the labels (0 .. classes-1, or >= 0 without 'classes'; an error
 * names the dataset and row). The status is agreed: every rank fails or none does (see
 * nn_comm_agree). */
NnStatus nn_dataset_read(MPI_Comm comm, const char *path, const char *split, int64_t limit,
                         int64_t unit, NnSamples *out, char err[NN_ERR_LEN]);

/* What a run needs to know of a dataset before it reads any rows. */
typedef struct {
    int64_t train_rows;      /* rows of /train */
    int64_t validation_rows; /* rows of /validation; -1: the file has no such group */
    int64_t features;
    int classes;             /* stated, or inferred as the trainer infers them; 0: regression */
    int targets;             /* T of a regression dataset; 0: classification */
    int classes_inferred;    /* 1: the file has no 'classes' attribute */
    int64_t max_label;       /* the largest label of all splits, when inferred; else -1 */
    NnPreprocess prep;       /* the features' type, scale, mean and std; owned */
} NnDataShape;

/* One process, no MPI: checks that path is a regular nn-mpi dataset file and reads the
 * shape of its training split, the feature type and the preprocessing, without its rows.
 * Without a 'classes' attribute it infers the classes by reading every label of every
 * split once (in blocks of 1 Mi rows: 8 MiB of memory; the cost is one pass over the label
 * datasets: 35 ms for 10^7 int64 labels in the page cache, else the disk's time to read
 * them). Free with nn_data_shape_free. */
NnStatus nn_dataset_probe(const char *path, NnDataShape *shape, char err[NN_ERR_LEN]);

/* The same checks of a dataset already open as `file` (an HDF5 file id, e.g. an image in
 * memory from nn_h5_open_image), named `path` in messages. Leaves file open. */
NnStatus nn_dataset_probe_open(hid_t file, const char *path, NnDataShape *shape,
                               char err[NN_ERR_LEN]);

void nn_data_shape_free(NnDataShape *shape);

/* For readers of one split in one process (nn-mpi predict), the reader's own checks: opens
 * the features dataset `name` (e.g. "/test/images") of the open file, which must be 2-D,
 * uint8 or float, with 1 .. NN_DATASET_MAX_FEATURES columns; fills dims (rows, columns) and
 * *type. Returns the dataset id (caller closes), or -1 with err naming file and dataset. */
hid_t nn_dataset_open_features(hid_t file, const char *path, const char *name, hsize_t *dims,
                               NnFeatureType *type, char err[NN_ERR_LEN]);

/* The preprocessing the file states for the features dataset `images` (named `name`, of
 * `type` and `features` columns): its scale attribute or the type's default, and the root
 * /mean and /std, checked. Free with nn_preprocess_free. */
NnStatus nn_dataset_read_preprocess(hid_t file, hid_t images, const char *path,
                                    const char *name, NnFeatureType type, int features,
                                    NnPreprocess *prep, char err[NN_ERR_LEN]);

/* Collective over comm. Reads this rank's part of the rows rows[0..n_rows) of split "split"
 * (ascending, no repeats): positions [out->start, out->start + out->count) of the list, from
 * nn_shard_range_units(n_rows, unit, ranks, rank), so out->total = n_rows and record i holds
 * row rows[out->start + i]. One collective read per dataset of the union of the part's runs
 * of consecutive rows; a rank with no rows still takes part. The same checks as
 * nn_dataset_read, and a row beyond the split is an error; the status is agreed. */
NnStatus nn_dataset_read_rows(MPI_Comm comm, const char *path, const char *split,
                              const int32_t *rows, int64_t n_rows, int64_t unit, NnSamples *out,
                              char err[NN_ERR_LEN]);

/* Collective over comm. *has = 1 when the file has the group /split (e.g. "validation"),
 * else 0, the same on every rank. Fails, agreed, when the file cannot be opened. */
NnStatus nn_dataset_has_split(MPI_Comm comm, const char *path, const char *split, int *has,
                              char err[NN_ERR_LEN]);

void nn_samples_free(NnSamples *samples);

/* Writes a dataset file from IDX arrays, atomically (built in memory, then written whole;
 * on failure, a full disk included, nothing is left at path or beside it). Checks that each
 * split has as many labels as images, 1 .. NN_DATASET_MAX_ROWS of them, of at most
 * NN_DATASET_MAX_FEATURES pixels, and that both splits have the same image shape. */
NnStatus nn_dataset_write(const char *path, const NnIdxArray *train_images,
                          const NnIdxArray *train_labels, const NnIdxArray *test_images,
                          const NnIdxArray *test_labels, const char *source,
                          char err[NN_ERR_LEN]);

#endif
