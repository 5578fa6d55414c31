/* Rows of fields from a CSV file, streamed, with the header detected and every field's line
 * and column known: the reading that nn-mpi-data csv (nn_convert.h) and nn-mpi predict
 * (nn_input.h) share. libcsv splits the bytes (RFC 4180: quoting, embedded delimiters and
 * newlines, CRLF) a block at a time, so memory does not grow with the rows; blank lines are
 * skipped; a stray quote is an error. What a field means is the caller's: its callbacks. */
#ifndef NNMPI_NN_CSV_H
#define NNMPI_NN_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "nnmpi/nn_status.h"

/* A row's fields, each NUL-terminated ("" when empty). */
typedef struct {
    char **text; /* (n) */
    int n;
} NnCsvFields;

/* Frees the fields and leaves f empty ({NULL, 0}); an empty f is left as it is. */
void nn_csv_fields_free(NnCsvFields *f);

/* What the caller does with the rows. Each callback gets ctx and the line (1-based) its row
 * starts on, for "FILE:LINE: ..." messages. A callback fails by returning NN_ERR with its
 * message in the err that the caller gave nn_csv_read (ctx holds it); the read then stops
 * and returns NN_ERR. */
typedef struct {
    /* The file's first row, once it has ended, and whether it is a header. first is the
     * reader's, but a header may be taken whole (*first then set to {NULL, 0}; the caller
     * frees it with nn_csv_fields_free), e.g. kept for messages. NULL: nothing to do. When
     * the row is data, its fields then reach `field` and `row` as any data row's. */
    NnStatus (*first_row)(void *ctx, int64_t line, NnCsvFields *first, int header);
    /* Field col (0-based) of a data row: s[0..n), NUL-terminated; an empty field has n 0
     * and s possibly NULL. */
    NnStatus (*field)(void *ctx, int64_t line, int col, const char *s, size_t n);
    /* The end of a data row of `fields` fields (>= 1). */
    NnStatus (*row)(void *ctx, int64_t line, int fields);
} NnCsvCallbacks;

/* Reads the CSV file at path, fields split at `delimiter`, and hands its rows to cb. The
 * first row is a header when header is 1, data when it is 0; with -1, a header when any of
 * its non-empty fields is not a number (nn_number.h). Fails with err naming the file, e.g.
 *   x.csv: cannot open: No such file or directory   (or: not a regular file)
 *   x.csv:3: malformed quoting (...)
 *   x.csv:3: a quoted field is not closed
 *   x.csv: no data rows                              (no row reached cb->row)
 * or with a callback's message. */
NnStatus nn_csv_read(const char *path, char delimiter, int header, const NnCsvCallbacks *cb,
                     void *ctx, char err[NN_ERR_LEN]);

#endif
