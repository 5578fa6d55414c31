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

/* One double term, with the same rules; returns 1 when it was left out. */
int64_t nn_fixed_add_double(int64_t *acc, double v, double limit);

double nn_fixed_to_double(int64_t q);

/* out[i] = (float)fixed value of q[i]. */
void nn_fixed_to_float(const int64_t *restrict q, float *restrict out, size_t n);

/* Exact sums of squares of floats over a wide range, for an L2 norm that must not depend
 * on how the vector is cut into slices (gradient clipping, nn_trainer.c). Each square v^2
 * (exact as a double) is truncated to a multiple of 2^-128 and added as an integer spread
 * over limbs 0 .. NN_SQUARES_LIMBS - 2 (limb j takes bits 32 j .. 32 j + 31 of each term,
 * so a limb grows by less than 2^32 per term); the last limb counts the values left out:
 * NaN, infinite, or |v| >= 2^64. Accumulators add limb by limb as int64 (MPI_SUM of
 * MPI_INT64_T), exactly, in any grouping and order, for up to 2^31 terms in all.
 * Precision: each term is short of its square by less than 2^-128 (|v| < 2^-64 counts as
 * 0); the value is then rounded to a double once per limb. */
#define NN_SQUARES_LIMBS 10

/* acc += the squares of v[0..n). acc starts zeroed. */
void nn_fixed_add_squares(int64_t acc[NN_SQUARES_LIMBS], const float *v, size_t n);

/* The sum as a double, the same bits for the same limbs; +infinity when values were left
 * out. */
double nn_fixed_squares_value(const int64_t acc[NN_SQUARES_LIMBS]);

#endif
