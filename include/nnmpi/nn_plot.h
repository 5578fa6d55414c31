/* Charts drawn as SVG (nn_svg.h): the training curves of runs (nn-mpi plot) and a confusion
 * matrix as a heat map (nn-mpi eval --confusion). Both documents carry their geometry in
 * data-* attributes, so that a program can find where a value was drawn:
 *   curves: <rect class="plot-area" data-panel="loss"|"accuracy"|"r2"|"accuracy-r2" x y
 *           width height data-xmin data-xmax data-ymin data-ymax/>: a value v at epoch e is
 *           drawn at x + (e - xmin) / (xmax - xmin) * width, y + height - (v - ymin) /
 *           (ymax - ymin) * height; each run's series is a <polyline class="series"
 *           data-run="I" data-series="KEY" stroke="#rrggbb"> (KEY as in the epoch event;
 *           one polyline per stretch of epochs without a gap) with a <circle class="point">
 *           of the same colour at every value.
 *   confusion: <rect class="cell" data-true="I" data-predicted="J" data-count="N"
 *           data-fraction="F"> per cell, and <text class="count" data-true data-predicted>N
 *           </text> in it for up to NN_PLOT_MAX_COUNTED classes. */
#ifndef NNMPI_NN_PLOT_H
#define NNMPI_NN_PLOT_H

#include <stdint.h>

#include "nnmpi/nn_metrics.h"
#include "nnmpi/nn_svg.h"

/* Up to this many classes the heat map writes each cell's count in it. */
#define NN_PLOT_MAX_COUNTED 20

/* Starts svg (nn_svg_begin) and draws m's runs in two panels sharing the epoch axis: the
 * loss (train, validation and test) and the accuracy (validation and test), or R^2 for
 * regression runs. Each run has a colour (10 colours, repeated beyond 10 runs), each series
 * a dash pattern (train solid, validation dashed, test dotted); a legend beside each panel
 * names every drawn curve ("NAME test loss"). Null values leave gaps. The axes span the
 * epochs 1 .. the last one (at least 2) and the values' range rounded out to ticks of 1, 2 or
 * 5 times a power of ten. title: the chart's title. */
void nn_plot_curves(NnSvg *svg, const NnMetrics *m, const char *title);

/* Starts svg and draws the confusion matrix confusion:(classes, classes) (rows: true class,
 * columns: predicted class) as a heat map: each cell shaded by its count over its row's
 * total (white 0 to dark blue 1; a row without samples is white), its count written in it
 * for up to NN_PLOT_MAX_COUNTED classes, axes "predicted class" and "true class", and a
 * colour scale, under the title "Confusion matrix" and a line of text, subtitle (what was
 * evaluated). The picture is widened to fit the subtitle. */
void nn_plot_confusion(NnSvg *svg, const int64_t *confusion, int classes, const char *subtitle);

#endif
