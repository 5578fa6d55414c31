#include "nnmpi/nn_augment.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnmpi/nn_rng.h"

NnStatus nn_augment_init(NnAugment *a, int shift, int64_t seed, const NnSamples *s,
                         const char *path, char err[NN_ERR_LEN])
{
    memset(a, 0, sizeof *a);
    if (shift == 0) return NN_OK;
    int rows = s->image_rows, cols = s->image_cols, f = s->features;
    if (rows < 0)
        return nn_fail(err, "[data] augment = %d: %s: the image_shape attribute of "
                            "/train/images is not (rows, cols) with rows x cols = %d features",
                       shift, path, f);
    if (rows == 0) { /* no attribute: a square image, or none */
        int side = (int)lround(sqrt((double)f));
        if ((int64_t)side * side != f)
            return nn_fail(err, "[data] augment = %d needs images: %s has %d features per "
                                "row, not a square, and /train/images has no image_shape "
                                "attribute (rows, cols); nn-mpi-data writes one, or set "
                                "[data] augment = 0",
                           shift, path, f);
        rows = cols = side;
    }
    if (shift >= rows || shift >= cols)
        return nn_fail(err, "[data] augment = %d: must be less than the %d x %d images' sides "
                            "(%s)",
                       shift, rows, cols, path);
    *a = (NnAugment){.shift = shift,
                     .rows = rows,
                     .cols = cols,
                     .elem = nn_feature_bytes(s->prep.type),
                     .seed = seed};
    return NN_OK;
}

void nn_augment_offset(int64_t seed, int64_t epoch, int64_t row, int shift, int *dx, int *dy)
{
    NnRng rng; /* rows < 2^31 and epochs < 2^32: one substream per (epoch, row) */
    nn_rng_seed(&rng, (uint64_t)seed, NN_STREAM_AUGMENT,
                (uint64_t)epoch << 32 | (uint32_t)row);
    uint64_t sides = 2 * (uint64_t)shift + 1;
    *dx = (int)nn_rng_below(&rng, sides) - shift;
    *dy = (int)nn_rng_below(&rng, sides) - shift;
}

void nn_augment_shift(const uint8_t *in, uint8_t *out, int rows, int cols, int elem, int dx,
                      int dy)
{
    size_t line = (size_t)cols * (size_t)elem;
    int keep = cols - abs(dx); /* pixels of a line that stay in the picture */
    for (int y = 0; y < rows; y++) {
        uint8_t *to = out + (size_t)y * line;
        int from_y = y - dy;
        if (from_y < 0 || from_y >= rows || keep <= 0) {
            memset(to, 0, line);
            continue;
        }
        const uint8_t *from = in + (size_t)from_y * line;
        size_t moved = (size_t)keep * (size_t)elem, gap = line - moved;
        if (dx >= 0) {
            memset(to, 0, gap);
            memcpy(to + gap, from, moved);
        } else {
            memcpy(to, from + gap, moved);
            memset(to + moved, 0, gap);
        }
    }
}

const uint8_t *nn_augment_record(const NnAugment *a, int64_t epoch, int64_t row,
                                 const uint8_t *record, int64_t record_bytes, uint8_t *out)
{
    int dx, dy;
    nn_augment_offset(a->seed, epoch, row, a->shift, &dx, &dy);
    nn_augment_shift(record, out, a->rows, a->cols, a->elem, dx, dy);
    size_t image = (size_t)a->rows * (size_t)a->cols * (size_t)a->elem;
    memcpy(out + image, record + image, (size_t)record_bytes - image);
    return out;
}
