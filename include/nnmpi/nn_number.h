/* Numbers in text files (CSV fields, LIBSVM tokens): the converters' hot path. */
#ifndef NNMPI_NN_NUMBER_H
#define NNMPI_NN_NUMBER_H

#include <stddef.h>
#include <stdint.h>

/* Parses the whole of s[0..n) (no spaces around it) as a decimal number, "-1.5e3" style,
 * into the double that strtod gives (correctly rounded). Returns 0, or -1 when s is empty,
 * is not entirely a number, or is not finite ("nan", "inf", 1e999). Common short numbers
 * (at most 15 significant digits, exponent within 10^+-22) take an exact fast path;
 * others go through strtod. s need not be NUL-terminated. */
int nn_parse_double(const char *s, size_t n, double *out);

/* The same into a float: the double rounded to float, as numpy's astype(float32) does. */
int nn_parse_float(const char *s, size_t n, float *out);

/* Parses s[0..n) as an integer label: "3", "+1", "-1", or an integral decimal such as "2.0"
 * (within +-2^53). Returns 0, or -1 when it is not one. */
int nn_parse_label(const char *s, size_t n, int64_t *out);

#endif
