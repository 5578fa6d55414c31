#include "nnmpi/nn_shard.h"

#include "nnmpi/nn_status.h"

void nn_shard_range(int64_t n, int parts, int index, int64_t *start, int64_t *count)
{
    NN_ASSERT(n >= 0 && parts >= 1 && index >= 0 && index < parts);
    int64_t base = n / parts, extra = n % parts;
    *start = index * base + (index < extra ? index : extra);
    *count = base + (index < extra);
}

int nn_shard_owner(int64_t n, int parts, int64_t item)
{
    NN_ASSERT(item >= 0 && item < n && parts >= 1);
    int64_t base = n / parts, extra = n % parts;
    int64_t big = extra * (base + 1); /* items held by the larger ranges */
    if (item < big) return (int)(item / (base + 1));
    return (int)(extra + (item - big) / base);
}

void nn_shard_range_units(int64_t n, int64_t unit, int parts, int index, int64_t *start,
                          int64_t *count)
{
    NN_ASSERT(unit >= 1);
    int64_t first, units;
    nn_shard_range((n + unit - 1) / unit, parts, index, &first, &units);
    *start = first * unit < n ? first * unit : n;
    int64_t end = (first + units) * unit < n ? (first + units) * unit : n;
    *count = end - *start;
}

int nn_shard_owner_units(int64_t n, int64_t unit, int parts, int64_t item)
{
    NN_ASSERT(unit >= 1 && item >= 0 && item < n);
    return nn_shard_owner((n + unit - 1) / unit, parts, item / unit);
}
