/* Grayscale 8-bit images from image files, as a model's input row: PNG (read by libpng) and
 * PGM (Netpbm's binary P5 and plain P2). Every image becomes one row of width * height bytes,
 * row-major, the way the IDX files of MNIST store theirs (0 = black, 255 = white): the bytes
 * a uint8 dataset holds. Nothing is resized: the image must have exactly the pixels the
 * caller expects. Also PNG files written from RGB pixels (nn-mpi eval --errors). */
#ifndef NNMPI_NN_IMAGE_H
#define NNMPI_NN_IMAGE_H

#include <stdint.h>

#include "nnmpi/nn_status.h"

typedef enum { NN_IMAGE_PNG, NN_IMAGE_PGM } NnImageKind;

/* Reads the image file at path (a regular file: see nn_file_check_regular) into
 * pixels[0..expected). The size is checked from the header, before any pixel is read; an
 * image of another pixel count fails with "PATH: 27x28 pixels (756), expected 28x28 = 784
 * (the model's inputs)". Conversions to 8-bit gray:
 *   PNG: gray as stored; 1, 2 and 4-bit gray scaled to 0..255; palettes expanded; colour
 *        converted with png_set_rgb_to_gray's default weights (Rec. 709 primaries: 0.2126 R
 *        + 0.7152 G + 0.0722 B, or those of the file's cHRM chunk; R = G = B keeps its
 *        value); an alpha channel dropped
 *        (the colour values are used as they are, not composited); 16-bit scaled to 8 bits
 *        (png_set_scale_16: round(v / 257)); no gamma correction.
 *   PGM: maxval 255 as stored; any other maxval (1..65535) scaled to round(v * 255 / maxval).
 * A damaged or truncated file fails with err naming it and what libpng or the parser found. */
NnStatus nn_image_read(const char *path, NnImageKind kind, int64_t expected, uint8_t *pixels,
                       char err[NN_ERR_LEN]);

/* Writes rgb:(height, width, 3) 8-bit sRGB pixels as a PNG file (libpng, 8-bit RGB, no
 * interlacing), built in memory and written whole or not at all (nn_atomic_write). text:
 * NULL, or a tEXt chunk "Description" with this text (Latin-1; at most 64 KiB); err names
 * the file. */
NnStatus nn_image_write_png(const char *path, int width, int height, const uint8_t *rgb,
                            const char *text, char err[NN_ERR_LEN]);

#endif
