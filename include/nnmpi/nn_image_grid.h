/* A grid of small grayscale images, each with two caption lines under it, drawn into an
 * RGB picture with a built-in 5x7 pixel font (digits, lowercase letters, space and - . : #;
 * anything else is drawn as ?), for nn-mpi eval --errors. The layout, in pixels:
 *   upscale u    3 for images of up to 32 pixels a side, 2 up to 64, else 1 (each image
 *                pixel becomes a u x u block)
 *   font scale f 2 when the longest caption, at 6 pixels a character, fits in cols * u
 *                pixels at twice the size (12 f per character), else 1
 *   cell         width  max(cols * u, 6 f * longest caption),
 *                height rows * u + 2 + 2 * 9 f (the two caption lines)
 *   grid         min(count, 8) columns, ceil(count / columns) rows of cells, PAD = 6
 *                pixels around and between them: width PAD + columns * (cell width + PAD),
 *                height PAD + grid rows * (cell height + PAD)
 * Image i sits in column i mod columns and row i / columns, at x = PAD + column * (cell
 * width + PAD) + (cell width - cols * u) / 2, y = PAD + row * (cell height + PAD), gray
 * value v as (v, v, v); its first caption line in green, its second in red, on a dark gray
 * background (48, 48, 48). */
#ifndef NNMPI_NN_IMAGE_GRID_H
#define NNMPI_NN_IMAGE_GRID_H

#include <stdint.h>

#include "nnmpi/nn_status.h"

#define NN_GRID_COLUMNS 8
#define NN_GRID_PAD 6

typedef struct {
    const uint8_t *gray;  /* (rows, cols) row-major, 0 black .. 255 white; a view */
    char caption[2][32];  /* the two lines under it */
} NnGridTile;

typedef struct {
    int upscale, font_scale;
    int cell_width, cell_height;
    int columns, grid_rows;
    int width, height;    /* of the whole picture */
} NnGridLayout;

/* The layout of count >= 1 images of rows x cols pixels with these tiles' captions. */
NnGridLayout nn_grid_layout(const NnGridTile *tiles, int count, int rows, int cols);

/* Draws the count tiles (images of rows x cols) as laid out by nn_grid_layout and writes the
 * picture to path as a PNG (nn_image_write_png: whole or not at all; text: its tEXt
 * Description, or NULL). Fails for memory or the file, err naming it. */
NnStatus nn_grid_write_png(const char *path, const NnGridTile *tiles, int count, int rows,
                           int cols, const char *text, char err[NN_ERR_LEN]);

#endif
