/* NumPy .npy arrays (numpy.lib.format): a magic string, a version, and a Python dict literal
 * {'descr': '<f4', 'fortran_order': False, 'shape': (N, F), } padded with spaces, then the
 * raw array in C order. No Debian C library reads the format, so the header is parsed here,
 * once, for every reader of .npy data (the converter, nn-mpi-data npy, reads them as files
 * and as members of .npz archives; nn-mpi predict reads them as input rows). */
#ifndef NNMPI_NN_NPY_H
#define NNMPI_NN_NPY_H

#include <stddef.h>
#include <stdint.h>

#include "nnmpi/nn_status.h"

/* What the header says about the array. Rows are the first dimension; the others are
 * flattened into per_row elements. */
typedef struct {
    char kind;        /* 'f' float, 'i' signed, 'u' unsigned, 'b' bool */
    int size;         /* bytes per element: 4 or 8 for floats, 1, 2, 4 or 8 for integers */
    int swap;         /* big-endian data: nn_npy_swap before reading elements */
    int ndim;         /* >= 1 */
    int64_t rows;     /* the first dimension */
    int64_t per_row;  /* the product of the others (1 for a 1-D array) */
} NnNpyHeader;

/* Reads exactly n bytes from stream into buf, or fails with err naming the array (a short
 * read is "NAME: truncated: the header promises more data"). */
typedef NnStatus (*NnNpyRead)(void *stream, void *buf, size_t n, const char *name,
                              char err[NN_ERR_LEN]);

/* An NnNpyRead for a stdio stream (a FILE *). */
NnStatus nn_npy_fread(void *file, void *buf, size_t n, const char *name, char err[NN_ERR_LEN]);

/* Reads and checks the header through `read`, leaving the stream at the first element.
 * Accepted: float32/float64, (u)int8..64 and bool, either byte order, C order, at least one
 * dimension, each dimension and the per-row product at most 2^40. err names the array by
 * `name` and says what is wrong (a structured, object or Fortran-order array, an unknown
 * format version, a bad shape). */
NnStatus nn_npy_read_header(NnNpyRead read, void *stream, const char *name, NnNpyHeader *h,
                            char err[NN_ERR_LEN]);

/* Reverses the byte order of count elements of size bytes at p, in place. */
void nn_npy_swap(unsigned char *p, int64_t count, int size);

/* Element i of raw (elements of the header's kind and size, in native byte order) as a
 * double: exact for every float and for integers up to 2^53 in magnitude. */
double nn_npy_element(const NnNpyHeader *h, const unsigned char *raw, int64_t i);

#endif
