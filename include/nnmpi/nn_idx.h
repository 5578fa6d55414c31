/* Reader for the IDX files of MNIST and Fashion-MNIST, raw or gzipped: unsigned-byte
 * arrays of shape (count) for labels or (count, rows, cols) for images. */
#ifndef NNMPI_NN_IDX_H
#define NNMPI_NN_IDX_H

#include <stdint.h>

#include "nnmpi/nn_status.h"

typedef struct {
    int64_t count; /* first dimension */
    int rows;      /* images: rows per image; labels: 1 */
    int cols;      /* images: columns per image; labels: 1 */
    uint8_t *data; /* count * rows * cols bytes, owned */
} NnIdxArray;

/* What the caller can hold; checked from the header, before any of the body is read. */
typedef struct {
    int64_t max_count;      /* items (the first dimension) */
    int64_t max_item_bytes; /* bytes per item: rows * cols */
} NnIdxLimits;

/* Reads an image file (magic 0x00000803, 3 dimensions). Opens regular files only (a FIFO,
 * directory or device is refused: "PATH: not a regular file", without blocking). Checks
 * the magic number, that there is at least one item and no more than the limits allow
 * (sizes computed in 64 bits), that the data is exactly as long as the header says (neither
 * truncated nor followed by extra bytes) and that it decompresses cleanly. */
NnStatus nn_idx_read_images(const char *path, const NnIdxLimits *limits, NnIdxArray *out,
                            char err[NN_ERR_LEN]);

/* Reads a label file (magic 0x00000801, 1 dimension), with the same checks. */
NnStatus nn_idx_read_labels(const char *path, const NnIdxLimits *limits, NnIdxArray *out,
                            char err[NN_ERR_LEN]);

void nn_idx_free(NnIdxArray *array);

#endif
