/* A tiny SVG builder: markup appended to a growing buffer in memory, text escaped for XML,
 * and the document written whole or not at all (nn_atomic_write). Numbers are printed by
 * printf in the C locale (nn-mpi never calls setlocale), so a decimal point is always '.'.
 * An allocation failure is remembered and reported by nn_svg_save; the builder calls never
 * fail on their own. */
#ifndef NNMPI_NN_SVG_H
#define NNMPI_NN_SVG_H

#include <stddef.h>

#include "nnmpi/nn_status.h"

typedef struct {
    char *data; /* len bytes of markup, NUL-terminated; owned */
    size_t len, cap;
    int failed; /* an allocation failed: the document is incomplete */
} NnSvg;

/* Starts a document of width x height pixels (user units = pixels, white background). */
void nn_svg_begin(NnSvg *s, int width, int height);

/* Appends markup as printf formats it (not escaped: for tags and numbers). */
void nn_svg_printf(NnSvg *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Appends text escaped for an XML attribute value or element content: & < > " ' as
 * entities, control characters (other than tab and newline) and bytes that are not UTF-8
 * as '?', so that any byte string (a path, a run id) makes a well-formed document. */
void nn_svg_escape(NnSvg *s, const char *text);

/* <text x y ATTRS>TEXT</text>, TEXT escaped; attrs is markup (e.g. "text-anchor=\"end\""),
 * or NULL. */
void nn_svg_text(NnSvg *s, double x, double y, const char *attrs, const char *text);

/* Closes the document and writes it to path atomically (whole or not at all); err names
 * the file (or says that memory ran out while building it). */
NnStatus nn_svg_save(NnSvg *s, const char *path, char err[NN_ERR_LEN]);

void nn_svg_free(NnSvg *s);

#endif
