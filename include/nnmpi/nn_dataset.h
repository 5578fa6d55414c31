/* The nn-mpi dataset file (HDF5):
 *   /train/images  uint8 (N, F)   one row per sample, chunked by rows
 *   /train/labels  uint8 (N)
 *   /test/images   uint8 (M, F)
 *   /test/labels   uint8 (M)
 * Root attributes: format = "nn-mpi dataset", format_version = 1, source (text),
 * classes (labels are 0 .. classes-1; 10 when absent). Each images dataset has an
 * image_shape attribute (rows, cols) with rows * cols = F. */
#ifndef NNMPI_NN_DATASET_H
#define NNMPI_NN_DATASET_H

#include <mpi.h>
#include <stdint.h>

#include "nnmpi/nn_idx.h"
#include "nnmpi/nn_status.h"

#define NN_DATASET_FORMAT_VERSION 1
#define NN_DEFAULT_CLASSES 10
/* What a dataset holds: rows per split, and pixels (features) per row. */
#define NN_DATASET_MAX_ROWS INT64_C(2147483647)
#define NN_DATASET_MAX_FEATURES INT64_C(16777216)

/* One rank's contiguous rows of one split, each stored as a record: F pixel bytes followed
 * by the label byte. */
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
