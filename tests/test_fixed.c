/* The exact sums of reproducible mode: the same bits for any order and grouping of the
 * terms; the documented precision and range; NaN and infinities reported, never added. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn_test.h"
#include "nnmpi/nn_fixed.h"
#include "nnmpi/nn_rng.h"

enum { N = 4000, ROUNDS = 20 };

/* Terms of very different magnitudes and both signs, as gradients have. */
static void make_terms(float *v, int n, uint64_t seed)
{
    NnRng rng;
    nn_rng_seed(&rng, seed, 9, 9);
    for (int i = 0; i < n; i++) {
        float unit = nn_rng_symmetric(&rng, 1.0f);
        v[i] = ldexpf(unit, (int)nn_rng_below(&rng, 40) - 30); /* 2^-31 .. 2^9 */
    }
}

static void shuffle(float *v, int n, NnRng *rng)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)nn_rng_below(rng, (uint64_t)i + 1);
        float t = v[i];
        v[i] = v[j];
        v[j] = t;
    }
}

/* The sum of v[0..n) as one exact accumulator built from `groups` partial accumulators (as
 * ranks would), each summing its own contiguous slice term by term. */
static int64_t grouped_sum(const float *v, int n, int groups, double limit, int64_t *rejected)
{
    int64_t total = 0;
    for (int g = 0; g < groups; g++) {
        int64_t part = 0;
        for (int i = g * n / groups; i < (g + 1) * n / groups; i++)
            *rejected += nn_fixed_add(&part, &v[i], 1, limit);
        total += part;
    }
    return total;
}

static void test_order_independence(void)
{
    float *v = malloc(sizeof(float) * N), *w = malloc(sizeof(float) * N);
    make_terms(v, N, 1);
    double limit = nn_fixed_limit(N);
    int64_t rejected = 0;
    int64_t reference = grouped_sum(v, N, 1, limit, &rejected);
    NnRng rng;
    nn_rng_seed(&rng, 2, 9, 9);
    float first_float = 0.0f;
    int float_differs = 0;
    for (int round = 0; round < ROUNDS; round++) {
        memcpy(w, v, sizeof(float) * N);
        shuffle(w, N, &rng);
        int groups = 1 + (int)nn_rng_below(&rng, 9);
        CHECK(grouped_sum(w, N, groups, limit, &rejected) == reference);
        /* whole-vector form: the same */
        int64_t acc[N];
        CHECK(nn_fixed_store(acc, w, N, limit) == 0);
        int64_t total = 0;
        for (int i = 0; i < N; i++) total += acc[i];
        CHECK(total == reference);
        /* plain float sums of the same terms do depend on the order */
        float f = 0.0f;
        for (int i = 0; i < N; i++) f += w[i];
        if (round == 0) first_float = f;
        float_differs |= f != first_float;
    }
    CHECK(rejected == 0);
    CHECK(float_differs); /* the problem the exact sums solve */

    /* Precision: within k * 2^-41 of the exact sum of the terms (long double is exact
     * enough here: 64-bit mantissa over a 2^-31..2^9 range). */
    long double exact = 0.0L;
    for (int i = 0; i < N; i++) exact += v[i];
    double error = fabs((double)(exact - (long double)nn_fixed_to_double(reference)));
    printf("sum of %d terms: error %.3g, bound %.3g\n", N, error, N * ldexp(1.0, -41));
    CHECK(error <= N * ldexp(1.0, -41));
    free(v);
    free(w);
}

static void test_rounding_and_conversion(void)
{
    /* Every value is the nearest multiple of 2^-40, halves away from zero, on every code
     * path (vector and scalar) alike. */
    float v[8] = {0.0f, 1.0f, -1.0f, 0x1p-41f, -0x1p-41f, 0x1.8p-40f, 3.14159265f, -2.5e-7f};
    int64_t acc[8];
    CHECK(nn_fixed_store(acc, v, 8, 1e6) == 0);
    int64_t expected[8] = {0, 1LL << 40, -(1LL << 40), 1, -1, 2, 0, 0};
    expected[6] = (int64_t)((double)v[6] * 0x1p40 + 0.5);
    expected[7] = (int64_t)((double)v[7] * 0x1p40 - 0.5);
    for (int i = 0; i < 8; i++) CHECK(acc[i] == expected[i]);
    CHECK(nn_fixed_add(acc, v, 8, 1e6) == 0);
    for (int i = 0; i < 8; i++) CHECK(acc[i] == 2 * expected[i]);
    float back[8];
    nn_fixed_to_float(acc, back, 8);
    CHECK(back[1] == 2.0f && back[2] == -2.0f && back[0] == 0.0f);
    CHECK(fabsf(back[6] - 2 * v[6]) <= 1e-6f);
    CHECK(nn_fixed_to_double(1) == 0x1p-40);
}

static void test_range_and_specials(void)
{
    /* The documented range: k terms each at the limit sum without overflow... */
    const int64_t k = 1000;
    double limit = nn_fixed_limit(k);
    CHECK(limit == ldexp(1.0, 22) / 1000.0);
    float at_limit = (float)limit;
    while ((double)at_limit > limit) at_limit = nextafterf(at_limit, 0.0f);
    int64_t acc = 0, neg = 0;
    for (int64_t i = 0; i < k; i++) {
        CHECK(nn_fixed_add(&acc, &at_limit, 1, limit) == 0);
        float m = -at_limit;
        CHECK(nn_fixed_add(&neg, &m, 1, limit) == 0);
    }
    CHECK(acc > 0 && neg < 0 && acc == -neg); /* no wrap-around */
    CHECK(fabs(nn_fixed_to_double(acc) - (double)k * at_limit) <= k * ldexp(1.0, -41));
    /* ...and a term beyond it is refused and counted, not added. */
    float beyond = nextafterf((float)limit, INFINITY);
    while ((double)beyond <= limit) beyond = nextafterf(beyond, INFINITY);
    int64_t before = acc;
    CHECK(nn_fixed_add(&acc, &beyond, 1, limit) == 1);
    CHECK(acc == before);
    /* NaN and infinities: reported, never hidden in the sum. */
    float specials[5] = {NAN, 1.0f, INFINITY, -INFINITY, -NAN};
    int64_t sums[5] = {7, 7, 7, 7, 7};
    CHECK(nn_fixed_add(sums, specials, 5, limit) == 4);
    CHECK(sums[0] == 7 && sums[1] == 7 + (1LL << 40) && sums[2] == 7 && sums[3] == 7);
    CHECK(nn_fixed_store(sums, specials, 5, limit) == 4);
    CHECK(sums[0] == 0 && sums[1] == 1LL << 40 && sums[4] == 0);
    int64_t d = 0;
    CHECK(nn_fixed_add_double(&d, NAN, limit) == 1 && d == 0);
    CHECK(nn_fixed_add_double(&d, 2.5, limit) == 0 && d == (int64_t)(2.5 * 0x1p40));
    CHECK(nn_fixed_add_double(&d, 1e30, limit) == 1);
}

/* Sums of squares (the clipping norm): the same value for any cut into slices at multiples
 * of NN_SQUARES_BLOCK, close to the exact sum, exact on small integers; the range's ends. */
static void test_squares(void)
{
    float *v = malloc(sizeof(float) * N);
    NnRng rng;
    nn_rng_seed(&rng, 3, 9, 9);
    for (int i = 0; i < N; i++) { /* 2^-70 .. 2^40 and both signs: past the precision's end */
        float unit = nn_rng_symmetric(&rng, 1.0f);
        v[i] = ldexpf(unit, (int)nn_rng_below(&rng, 110) - 70);
    }
    const int n = N - 5; /* a short last block */
    int64_t whole[NN_SQUARES_LIMBS] = {0};
    nn_fixed_add_squares(whole, v, n);
    for (int round = 0; round < ROUNDS; round++) { /* slices of random lengths, summed */
        int64_t total[NN_SQUARES_LIMBS] = {0};
        for (int lo = 0, hi; lo < n; lo = hi) {
            hi = lo + NN_SQUARES_BLOCK * (1 + (int)nn_rng_below(&rng, n / 3 / NN_SQUARES_BLOCK));
            if (hi > n) hi = n;
            int64_t part[NN_SQUARES_LIMBS] = {0};
            nn_fixed_add_squares(part, v + lo, (size_t)(hi - lo));
            for (int j = 0; j < NN_SQUARES_LIMBS; j++) total[j] += part[j];
        }
        CHECK(nn_fixed_squares_value(total) == nn_fixed_squares_value(whole));
    }
    long double exact = 0.0L;
    for (int i = 0; i < n; i++) exact += (long double)v[i] * v[i];
    double value = nn_fixed_squares_value(whole);
    printf("sum of %d squares: relative error %.3g\n", n, (double)(fabsl(exact - value) / value));
    CHECK(fabsl(exact - value) <= 0x1p-42L * exact);
    free(v);

    float small[4] = {3.0f, -4.0f, 0.5f, 0.0f}; /* 9 + 16 + 0.25 */
    int64_t acc[NN_SQUARES_LIMBS] = {0};
    nn_fixed_add_squares(acc, small, 4);
    CHECK(nn_fixed_squares_value(acc) == 25.25);
    /* The ends, a block each: a sum of 2^-128 counts, below it nothing; just under 2^128
     * counts (a square of 20 bits, within the 43 kept), 2^128 is left out. */
    float ends[3 * NN_SQUARES_BLOCK] = {0};
    ends[0] = 0x1p-64f, ends[NN_SQUARES_BLOCK] = 0x1.fffffep-65f;
    ends[2 * NN_SQUARES_BLOCK] = 0x1.ffcp63f;
    memset(acc, 0, sizeof acc);
    nn_fixed_add_squares(acc, ends, 3 * NN_SQUARES_BLOCK);
    CHECK(acc[NN_SQUARES_LIMBS - 1] == 0);
    CHECK(nn_fixed_squares_value(acc) == 0x1p-128 + (double)ends[32] * ends[32]);
    float out[5] = {0x1p64f, INFINITY, NAN, -NAN, 1.0f};
    for (int i = 0; i < 5; i++) {
        memset(acc, 0, sizeof acc);
        nn_fixed_add_squares(acc, &out[i], 1);
        CHECK(acc[NN_SQUARES_LIMBS - 1] == (i < 4));
        CHECK(nn_fixed_squares_value(acc) == (i < 4 ? INFINITY : 1.0));
    }
}

/* nn_fixed_sum_rows, the node's one-pass sum of its chunk rows: the same integers as adding
 * the rows one by one, stored or added, over lengths that end inside its blocks, with the
 * float conversion of each value, and the bad values counted and left out. */
static void test_sum_rows(void)
{
    enum { ROWS = 5, LEN = 1300 }; /* 2 whole blocks of 512 and a partial one */
    static float rows[ROWS][LEN];
    static int64_t acc[LEN], want[LEN];
    float out[LEN], want_out[LEN];
    const float *srcs[ROWS];
    for (int j = 0; j < ROWS; j++) {
        make_terms(rows[j], LEN, 10 + (uint64_t)j);
        srcs[j] = rows[j];
    }
    double limit = nn_fixed_limit(ROWS * 2);
    for (int n_rows = 0; n_rows <= ROWS; n_rows++) {
        for (int add = 0; add <= 1; add++) {
            for (int i = 0; i < LEN; i++) acc[i] = want[i] = add ? 7 * i - 3000 : -1;
            if (!add) memset(want, 0, sizeof want);
            for (int j = 0; j < n_rows; j++) CHECK(nn_fixed_add(want, rows[j], LEN, limit) == 0);
            CHECK(nn_fixed_sum_rows(acc, srcs, n_rows, LEN, limit, add, out) == 0);
            CHECK(memcmp(acc, want, sizeof acc) == 0);
            nn_fixed_to_float(want, want_out, LEN);
            CHECK(memcmp(out, want_out, sizeof out) == 0);
            if (!add) { /* the sums kept in registers only: the same floats */
                memset(out, 0xff, sizeof out);
                CHECK(nn_fixed_sum_rows(NULL, srcs, n_rows, LEN, limit, 0, out) == 0);
                CHECK(memcmp(out, want_out, sizeof out) == 0);
            }
        }
    }
    rows[1][3] = NAN;
    rows[3][1299] = INFINITY;
    rows[4][600] = (float)(2 * limit);
    memset(acc, 0, sizeof acc);
    CHECK(nn_fixed_sum_rows(acc, srcs, ROWS, LEN, limit, 0, NULL) == 3);
    CHECK(nn_fixed_sum_rows(NULL, srcs, ROWS, LEN, limit, 0, out) == 3);
    int64_t good = 0;
    for (int j = 0; j < ROWS; j++)
        if (j != 1) CHECK(nn_fixed_add(&good, &rows[j][3], 1, limit) == 0);
    CHECK(acc[3] == good); /* the NaN left out, the other rows in */
}

/* Every value's conversion, on whichever code path runs here (AVX-512 or not), equals the
 * formula: the nearest multiple of 2^-40, halves away from zero: ties, the limit's ends,
 * subnormals, zeros of both signs and random values of every magnitude, at every offset
 * of a vector. */
static void test_rounding_everywhere(void)
{
    enum { M = 100003 };
    static float v[M];
    static int64_t got[M];
    NnRng rng;
    nn_rng_seed(&rng, 77, 9, 9);
    double limit = nn_fixed_limit(4);
    for (int i = 0; i < M; i++) {
        int kind = (int)nn_rng_below(&rng, 4);
        float unit = nn_rng_symmetric(&rng, 1.0f);
        if (kind == 0) /* a tie: an odd multiple of 2^-41 */
            v[i] = ldexpf((float)(2 * (int)nn_rng_below(&rng, 1 << 20) + 1), -41) *
                   (unit < 0 ? -1.0f : 1.0f);
        else if (kind == 1) /* tiny: subnormal to 2^-30 */
            v[i] = ldexpf(unit, -(int)nn_rng_below(&rng, 120) - 30);
        else
            v[i] = ldexpf(unit, (int)nn_rng_below(&rng, 60) - 40);
    }
    v[0] = -0.0f, v[1] = 0x1p-149f, v[2] = (float)limit, v[3] = -(float)limit;
    v[4] = nextafterf((float)limit, INFINITY);
    int64_t rejected = nn_fixed_store(got, v, M, limit), want_rejected = 0, bad = 0;
    for (int i = 0; i < M; i++) {
        double d = (double)v[i] * 0x1p40;
        int ok = fabs((double)v[i]) <= limit;
        want_rejected += !ok;
        int64_t want = ok ? (int64_t)(d + copysign(0.5, d)) : 0;
        bad += got[i] != want;
    }
    printf("rounding: %d values, %lld differ from the formula, %lld rejected\n", M,
           (long long)bad, (long long)rejected);
    CHECK(bad == 0 && rejected == want_rejected && want_rejected >= 1);
}

/* The AVX-512 code (where this CPU runs it) and the portable code give the same integers
 * and floats for the same values. */
static void test_paths_agree(void)
{
    enum { M = 5000, ROWS = 3 };
    static float rows[ROWS][M];
    static int64_t fast[M], portable[M];
    float fast_out[M], portable_out[M];
    const float *srcs[ROWS];
    for (int j = 0; j < ROWS; j++) {
        make_terms(rows[j], M, 40 + (uint64_t)j);
        srcs[j] = rows[j];
    }
    rows[0][17] = 0x1.8p-40f; /* a tie */
    rows[1][4001] = NAN;
    double limit = nn_fixed_limit(ROWS);
    int64_t r1 = nn_fixed_sum_rows(fast, srcs, ROWS, M, limit, 0, fast_out);
    int64_t r2 = nn_fixed_sum_rows(NULL, srcs, ROWS, M, limit, 0, fast_out);
    nn_fixed_set_portable(1);
    int64_t r3 = nn_fixed_sum_rows(portable, srcs, ROWS, M, limit, 0, portable_out);
    nn_fixed_set_portable(0);
    CHECK(r1 == 1 && r2 == 1 && r3 == 1);
    CHECK(memcmp(fast, portable, sizeof fast) == 0);
    CHECK(memcmp(fast_out, portable_out, sizeof fast_out) == 0);
}

int main(void)
{
    test_paths_agree();
    test_rounding_everywhere();
    test_sum_rows();
    nn_fixed_set_portable(1); /* the same checks on the portable code */
    test_rounding_everywhere();
    test_sum_rows();
    nn_fixed_set_portable(0);
    test_order_independence();
    test_rounding_and_conversion();
    test_range_and_specials();
    test_squares();
    return nn_test_finish("test_fixed");
}
