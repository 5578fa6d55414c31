/* The nn-mpi dataset file (HDF5):
 *   /train/images  uint8 (N, F)   one row per sample, chunked by rows
 *   /train/labels  uint8 (N)
 *   /test/images   uint8 (M, F)
 *   /test/labels   uint8 (M)
 *   /validation/images, /validation/labels   optional, the same layout as /test
 * Root attributes: format = "nn-mpi dataset", format_version = 1, source (text),
 * classes (labels are 0 .. classes-1; 10 when absent). Each images dataset has an
 * image_shape attribute (rows, cols) with rows * cols = F. */
#ifndef NNMPI_NN_DATASET_H
#define NNMPI_NN_DATASET_H

#include <hdf5.h>
#include <mpi.h>
#include <stdint.h>

#include "nnmpi/nn_idx.h"
#include "nnmpi/nn_status.h"

#define NN_DATASET_FORMAT_VERSION 1
#define NN_DEFAULT_CLASSES 10
/* What a dataset holds: rows per split, and pixels (features) per row. */
#define NN_DATASET_MAX_ROWS INT64_C(2147483647)
#define NN_DATASET_MAX_FEATURES INT64_C(16777216)

/* One rank's contiguous rows of one split (or of a list of its rows: then total, start and
 * count count positions in the list), each stored as a record: F pixel bytes followed by
 * the label byte. */
typedef struct {
    int64_t total;    /* rows of the split in use (all ranks) */
    int64_t start;    /* this rank's first row */
    int64_t count;    /* this rank's rows; 0 when total < ranks */
    int features;     /* F */
    int classes;      /* labels are 0 .. classes-1 */
    uint8_t *records; /* (count, features + 1), owned */
} NnSamples;

/* Bytes per record: the pixels and the label. */
static inline int64_t nn_samples_record_size(const NnSamples *s)
{
    return (int64_t)s->features + 1;
}

/* Decodes one record into model input: features pixels scaled to [0, 1], and the label. */
static inline void nn_record_decode(const uint8_t *record, int features, float *x,
                                    uint8_t *label)
{
    for (int j = 0; j < features; j++) x[j] = record[j] * (1.0f / 255.0f);
    *label = record[features];
}

/* Collective over comm. Reads this rank's shard of split "train" or "test", limited to the
 * first `limit` rows when limit > 0: the ranks split the rows in whole units of `unit` rows
 * (nn_shard_range_units; 1 for the plain balanced split). One collective hyperslab read per
 * dataset; a rank with no rows still takes part. Checks shapes, types and label range. The
 * status is agreed: every rank fails or none does (see nn_comm_agree). */
NnStatus nn_dataset_read(MPI_Comm comm, const char *path, const char *split, int64_t limit,
                         int64_t unit, NnSamples *out, char err[NN_ERR_LEN]);

/* What a run needs to know of a dataset before it reads any rows. */
typedef struct {
    int64_t train_rows;      /* rows of /train */
    int64_t validation_rows; /* rows of /validation; -1: the file has no such group */
    int64_t features;
    int classes;
} NnDataShape;

/* One process, no MPI: checks that path is a regular nn-mpi dataset file and reads the
 * shape of its training split, without its rows. */
NnStatus nn_dataset_probe(const char *path, NnDataShape *shape, char err[NN_ERR_LEN]);

/* The same checks of a dataset already open as `file` (an HDF5 file id, e.g. an image in
 * memory from nn_h5_open_image), named `path` in messages. Leaves file open. */
NnStatus nn_dataset_probe_open(hid_t file, const char *path, NnDataShape *shape,
                               char err[NN_ERR_LEN]);

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
