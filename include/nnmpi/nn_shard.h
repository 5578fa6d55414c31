/* Contiguous, balanced partitions: which rows of a dataset a rank reads, and which part of
 * a global batch a rank computes. Pure functions of (n, parts, index). */
#ifndef NNMPI_NN_SHARD_H
#define NNMPI_NN_SHARD_H

#include <stdint.h>

/* Splits items [0, n) into `parts` contiguous ranges whose sizes differ by at most one; the
 * first n % parts ranges hold one more. Range `index` is [*start, *start + *count); it is
 * empty when n < parts and index >= n. */
void nn_shard_range(int64_t n, int parts, int index, int64_t *start, int64_t *count);

/* The index of the range that holds item (0 <= item < n): the inverse of nn_shard_range. */
int nn_shard_owner(int64_t n, int parts, int64_t item);

/* The same split in whole units of `unit` items (the last unit may be shorter): range
 * `index` is made of the units nn_shard_range(ceil(n / unit), parts, index) gives, so
 * sizes differ by at most one unit. unit = 1 is nn_shard_range. */
void nn_shard_range_units(int64_t n, int64_t unit, int parts, int index, int64_t *start,
                          int64_t *count);

/* The index of the range of nn_shard_range_units that holds item. */
int nn_shard_owner_units(int64_t n, int64_t unit, int parts, int64_t item);

#endif
