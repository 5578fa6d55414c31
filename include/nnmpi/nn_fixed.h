/* Exact, order-independent sums of floats, for reproducible training. Each value is
 * rounded to a multiple of 2^-NN_FIXED_FRACTION_BITS and held as an int64_t; integer
 * addition is associative, so a sum reduced with MPI_Allreduce(MPI_INT64_T, MPI_SUM) is
 * the same bits in any grouping and order, on any number of ranks.
 *
 * Precision: each term is rounded to the nearest multiple (halves away from zero), so it
 * is off by at most 2^-41 (about 4.5e-13), so a sum of k terms is
 * within k * 2^-41 of the exact sum of the float terms.
 * Range: a sum of at most k terms cannot overflow when every term's magnitude stays below
 * nn_fixed_limit(k) = 2^(62-40) / k (for k = 64 terms: 65536). Terms outside that range, and
 * NaN and infinite terms, are not added but counted, so that the caller reports them. */
#ifndef NNMPI_NN_FIXED_H
#define NNMPI_NN_FIXED_H

#include <stddef.h>
#include <stdint.h>

#define NN_FIXED_FRACTION_BITS 40

/* The largest term magnitude for sums of up to max_terms terms. */
double nn_fixed_limit(int64_t max_terms);

/* acc[i] += fixed(v[i]) for i < n. Returns how many values were NaN, infinite or beyond
 * limit in magnitude; those are left out of acc. */
int64_t nn_fixed_add(int64_t *restrict acc, const float *restrict v, size_t n, double limit);

/* acc[i] = fixed(v[i]): nn_fixed_add onto zeros, without clearing acc first. */
int64_t nn_fixed_store(int64_t *restrict acc, const float *restrict v, size_t n, double limit);

/* acc[i] = (add ? acc[i] : 0) + fixed(rows[0][i]) + ... + fixed(rows[n_rows - 1][i]) for
 * i < n, with nn_fixed_add's rules: the exact sum of several float vectors in one pass,
 * block by block so that acc stays in the first-level cache (nn_reduce.c's exact sums);
 * with out, also out[i] = the float value of acc[i], block by block. acc may be NULL when
 * out is given and add is 0: the sums then live only a block at a time, and only out is
 * written. Returns the values left out. */
int64_t nn_fixed_sum_rows(int64_t *restrict acc, const float *const *rows, int n_rows, size_t n,
                          double limit, int add, float *out);

/* One double term, with the same rules; returns 1 when it was left out. */
int64_t nn_fixed_add_double(int64_t *acc, double v, double limit);

double nn_fixed_to_double(int64_t q);

/* Tests: 1 makes these functions take their portable code even where the AVX-512 code
 * would run, so that both can be compared on one machine; 0 restores the choice. */
void nn_fixed_set_portable(int portable);

/* out[i] = (float)fixed value of q[i]. */
void nn_fixed_to_float(const int64_t *restrict q, float *restrict out, size_t n);

/* Sums of squares of floats that do not depend on how the vector is cut into slices, as
 * long as every slice starts at a multiple of NN_SQUARES_BLOCK, for an L2 norm over slices
 * on several ranks (gradient clipping, nn_trainer.c). The squares of each block of
 * NN_SQUARES_BLOCK consecutive values (the last one may be short) are summed as doubles in
 * a fixed order; each block's sum d in [2^-128, 2^128) then adds its 43 leading bits, an
 * integer in units of 2^-170, exactly, to limbs 0 .. NN_SQUARES_LIMBS - 2 (limb j holds
 * bits 32 j .. 32 j + 31 of such integers, and carries); the last limb counts the blocks
 * left out: NaN, infinite, or d >= 2^128 (a value of 2^64, or 16 of 2^62). Blocks below 2^-128
 * count as 0. Accumulators add limb by limb as int64 (MPI_SUM of MPI_INT64_T), exactly, in
 * any grouping and order, for up to 2^31 values in all (and 2^20 accumulators): the limbs
 * may then differ with the grouping, but not the total they hold, nor its value.
 * Precision: a block's part is within 2^-42 of its exact sum of squares, relatively; the
 * total is then rounded to a double once per limb. Cost: about 0.4 ns per value. */
#define NN_SQUARES_BLOCK 16
#define NN_SQUARES_LIMBS 11

/* acc += the squares of v[0..n), v[0] starting a block. acc starts zeroed. */
void nn_fixed_add_squares(int64_t acc[NN_SQUARES_LIMBS], const float *v, size_t n);

/* The total as a double, the same bits for the same total however it was grouped;
 * +infinity when blocks were left out. */
double nn_fixed_squares_value(const int64_t acc[NN_SQUARES_LIMBS]);

#endif
