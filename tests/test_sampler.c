/* Shard ranges and the sampler: pure functions, tested without MPI. */
#include <stdint.h>
#include <stdlib.h>

#include "nn_test.h"
#include "nnmpi/nn_sampler.h"
#include "nnmpi/nn_shard.h"

static void test_shard_ranges(void)
{
    const int64_t sizes[] = {0, 1, 2, 3, 5, 7, 10, 11, 97, 1000, 59999, 60000};
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
        int64_t n = sizes[s];
        for (int parts = 1; parts <= 9; parts++) {
            int64_t next = 0, smallest = INT64_MAX, largest = -1;
            for (int r = 0; r < parts; r++) {
                int64_t start, count;
                nn_shard_range(n, parts, r, &start, &count);
                CHECK(start == next); /* contiguous, in rank order */
                CHECK(count >= 0);
                next = start + count;
                if (count < smallest) smallest = count;
                if (count > largest) largest = count;
                for (int64_t i = start; i < start + count; i++)
                    CHECK(nn_shard_owner(n, parts, i) == r);
                /* the first n % parts ranges hold the extra rows */
                CHECK(count == n / parts + (r < n % parts));
            }
            CHECK(next == n);               /* every row is read by exactly one rank */
            CHECK(largest - smallest <= 1); /* balanced */
        }
    }
    /* In units: whole units of 4 rows, the last one short. */
    int64_t ustart, ucount;
    nn_shard_range_units(10, 4, 2, 0, &ustart, &ucount);
    CHECK(ustart == 0 && ucount == 8);
    nn_shard_range_units(10, 4, 2, 1, &ustart, &ucount);
    CHECK(ustart == 8 && ucount == 2);
    nn_shard_range_units(10, 4, 4, 3, &ustart, &ucount);
    CHECK(ustart == 10 && ucount == 0);
    CHECK(nn_shard_owner_units(10, 4, 2, 7) == 0 && nn_shard_owner_units(10, 4, 2, 8) == 1);
    /* N < P: the last ranks have no rows, at a start that is still in range. */
    int64_t start, count;
    nn_shard_range(3, 5, 4, &start, &count);
    CHECK(start == 3 && count == 0);
    nn_shard_range(3, 5, 2, &start, &count);
    CHECK(start == 2 && count == 1);
}

static int is_permutation(const int32_t *perm, int64_t n)
{
    char *seen = calloc((size_t)n + 1, 1);
    int ok = 1;
    for (int64_t i = 0; i < n; i++) {
        if (perm[i] < 0 || perm[i] >= n || seen[perm[i]]) ok = 0;
        else seen[perm[i]] = 1;
    }
    free(seen);
    return ok;
}

static void test_permutation(void)
{
    const int64_t n = 1000;
    int32_t *a = malloc(sizeof(int32_t) * n), *b = malloc(sizeof(int32_t) * n);
    nn_sampler_permutation(7, 0, n, a);
    CHECK(is_permutation(a, n));
    nn_sampler_permutation(7, 0, n, b);
    CHECK(memcmp(a, b, sizeof(int32_t) * n) == 0); /* depends only on (seed, epoch) */
    nn_sampler_permutation(7, 1, n, b);
    CHECK(is_permutation(b, n));
    CHECK(memcmp(a, b, sizeof(int32_t) * n) != 0); /* a new order each epoch */
    nn_sampler_permutation(8, 0, n, b);
    CHECK(memcmp(a, b, sizeof(int32_t) * n) != 0); /* and for each seed */
    int fixed = 0;
    for (int64_t i = 0; i < n; i++) fixed += a[i] == i;
    CHECK(fixed < 20); /* shuffled, not the identity (about 1 fixed point expected) */
    /* Each position sees every value about equally often over many epochs. */
    int64_t first_counts[10] = {0};
    int32_t small[10];
    for (int e = 0; e < 10000; e++) {
        nn_sampler_permutation(3, e, 10, small);
        first_counts[small[0]]++;
    }
    for (int v = 0; v < 10; v++) CHECK(first_counts[v] > 850 && first_counts[v] < 1150);
    free(a);
    free(b);
}

/* For every rank count 1..8 and chunk sizes 1 (the balanced split), 3 and 16, the parts of
 * every step, concatenated in rank order, are the step's positions in order: so the global
 * order is the same for every rank count, every position is used exactly once, and every
 * rank has a (possibly empty) part in every step. Parts are made of whole chunks. */
static void test_global_order(int64_t n, int64_t batch)
{
    int64_t steps = nn_sampler_steps(n, batch);
    CHECK(steps == (n + batch - 1) / batch);
    const int64_t chunks[] = {1, 3, 16};
    for (int c = 0; c < 3; c++) {
        for (int parts = 1; parts <= 8; parts++) {
            NnBatchLayout layout = {.n = n, .batch = batch, .chunk = chunks[c], .parts = parts};
            int64_t next = 0;
            for (int64_t t = 0; t < steps; t++) {
                int64_t batch_size = n - t * batch < batch ? n - t * batch : batch;
                int64_t units = (batch_size + chunks[c] - 1) / chunks[c];
                for (int r = 0; r < parts; r++) {
                    int64_t start, count;
                    nn_sampler_part(&layout, t, r, &start, &count);
                    CHECK(start == next);
                    CHECK(count >= 0);
                    /* whole chunks, counted from the batch's start; balanced in chunks */
                    CHECK((start - t * batch) % chunks[c] == 0 || count == 0);
                    int64_t my_units = units / parts + (r < units % parts);
                    CHECK(count <= my_units * chunks[c] && count > (my_units - 1) * chunks[c]);
                    for (int64_t p = start; p < start + count; p++)
                        CHECK(nn_sampler_user(&layout, p) == r);
                    next = start + count;
                }
                CHECK(next == t * batch + batch_size);
            }
            CHECK(next == n);
        }
    }
}

/* The validation split is a pure function of (seed, n, v): no rank count enters it, so it
 * is the same at every rank count by construction. Both lists are sorted, disjoint, of the
 * right sizes and together cover [0, n). */
static void check_split(int64_t seed, int64_t n, int64_t v)
{
    int32_t *val = malloc(sizeof(int32_t) * (size_t)(v + 1));
    int32_t *train = malloc(sizeof(int32_t) * (size_t)(n - v + 1));
    char *seen = calloc((size_t)n + 1, 1);
    nn_sampler_validation_split(seed, n, v, val, train);
    int sorted = 1, in_range = 1, once = 1;
    for (int64_t i = 0; i < v; i++) {
        sorted &= i == 0 || val[i] > val[i - 1];
        in_range &= val[i] >= 0 && val[i] < n;
        if (val[i] >= 0 && val[i] < n) once &= seen[val[i]]++ == 0;
    }
    for (int64_t i = 0; i < n - v; i++) {
        sorted &= i == 0 || train[i] > train[i - 1];
        in_range &= train[i] >= 0 && train[i] < n;
        if (train[i] >= 0 && train[i] < n) once &= seen[train[i]]++ == 0;
    }
    CHECK(sorted && in_range && once); /* disjoint: no row twice */
    int64_t covered = 0;
    for (int64_t i = 0; i < n; i++) covered += seen[i] == 1;
    CHECK(covered == n); /* n - v + v rows, each once: every row in one list */
    /* The same call gives the same lists. */
    int32_t *val2 = malloc(sizeof(int32_t) * (size_t)(v + 1));
    int32_t *train2 = malloc(sizeof(int32_t) * (size_t)(n - v + 1));
    nn_sampler_validation_split(seed, n, v, val2, train2);
    CHECK(memcmp(val, val2, sizeof(int32_t) * (size_t)v) == 0);
    CHECK(memcmp(train, train2, sizeof(int32_t) * (size_t)(n - v)) == 0);
    free(val), free(train), free(seen), free(val2), free(train2);
}

static void test_validation_split(void)
{
    const int64_t cases[][2] = {{1, 0}, {1, 1}, {2, 1}, {10, 3}, {10, 9}, {10, 10},
                                {1000, 1},  {1000, 500}, {1000, 999}, {60000, 10000}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
        for (int64_t seed = 1; seed <= 3; seed++) check_split(seed, cases[c][0], cases[c][1]);

    /* v = 0: every row for training, in order. */
    int32_t none[1], all[100];
    nn_sampler_validation_split(5, 100, 0, none, all);
    int identity = 1;
    for (int i = 0; i < 100; i++) identity &= all[i] == i;
    CHECK(identity);

    /* Another seed, another choice; not simply the first or last rows. */
    enum { N = 1000, V = 100 };
    int32_t a[V], b[V], rest[N - V];
    nn_sampler_validation_split(7, N, V, a, rest);
    nn_sampler_validation_split(8, N, V, b, rest);
    CHECK(memcmp(a, b, sizeof a) != 0);
    CHECK(a[0] < N / 10 && a[V - 1] >= N - N / 10); /* spread over all rows */

    /* Uniform: over many seeds every row is chosen about v/n of the time. */
    int counts[10] = {0};
    int32_t pick[3], left[7];
    for (int64_t seed = 0; seed < 10000; seed++) {
        nn_sampler_validation_split(seed, 10, 3, pick, left);
        for (int i = 0; i < 3; i++) counts[pick[i]]++;
    }
    for (int r = 0; r < 10; r++) CHECK(counts[r] > 2700 && counts[r] < 3300); /* 3000 each */
}

int main(void)
{
    test_shard_ranges();
    test_permutation();
    test_validation_split();
    test_global_order(100, 10);  /* even */
    test_global_order(103, 10);  /* a smaller last batch */
    test_global_order(25, 7);    /* batch not divisible by 2..8 */
    test_global_order(11, 2);    /* parts smaller than the rank count: empty parts */
    test_global_order(5, 64);    /* one batch larger than the data */
    test_global_order(60000, 64);
    return nn_test_finish("test_sampler");
}
