/* Random translations of the training images ([data] augment = s). In epoch `epoch`, row
 * `row` of the training split moves by (dx, dy), each uniform in [-s, s], drawn from
 * (seed, epoch, row) alone by a counter-based generator (nn_rng.h, stream
 * NN_STREAM_AUGMENT): the same on any rank at any rank count, new in every epoch, and a
 * resumed run draws the same again. The stored features move (uint8 or float32, before
 * scale, mean and std are applied); pixels shifted in from outside are stored zeros. The
 * trainer shifts each sample as it decodes the batch (nn_exchange_batch), into a record it
 * allocated beforehand; evaluation never shifts. */
#ifndef NNMPI_NN_AUGMENT_H
#define NNMPI_NN_AUGMENT_H

#include <stdint.h>

#include "nnmpi/nn_dataset.h"
#include "nnmpi/nn_status.h"

typedef struct {
    int shift;      /* s: the largest |dx| and |dy|; 0: off */
    int rows, cols; /* the image: rows * cols features, row-major */
    int elem;       /* bytes per stored feature: 1 (uint8) or 4 (float32) */
    int64_t seed;
} NnAugment;

/* Augmentation by up to `shift` pixels of the training samples s, stored in the file at
 * path (for messages): the image shape is s's image_shape attribute or, without one, a
 * square of s->features pixels. shift 0: off, and nothing is checked. Fails, naming the
 * key and the file, without a shape or when shift is not less than both sides. */
NnStatus nn_augment_init(NnAugment *a, int shift, int64_t seed, const NnSamples *s,
                         const char *path, char err[NN_ERR_LEN]);

/* The offset of `row` of the training split in `epoch`: *dx, *dy in [-shift, shift]. A
 * positive dx moves the picture right, a positive dy down. */
void nn_augment_offset(int64_t seed, int64_t epoch, int64_t row, int shift, int *dx, int *dy);

/* out = in moved by (dx, dy): out[y][x] = in[y - dy][x - dx], zero bytes where that lies
 * outside the rows x cols image; elem bytes per pixel, at any alignment. in and out must
 * not overlap. */
void nn_augment_shift(const uint8_t *in, uint8_t *out, int rows, int cols, int elem, int dx,
                      int dy);

/* Record `record` (record_bytes: the features, then the label or targets) of `row` in
 * `epoch`, moved by its offset, into out (record_bytes); returns out. */
const uint8_t *nn_augment_record(const NnAugment *a, int64_t epoch, int64_t row,
                                 const uint8_t *record, int64_t record_bytes, uint8_t *out);

#endif
