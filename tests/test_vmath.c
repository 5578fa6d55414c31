/* The vectorised sigmoid (nn_vmath.h): within 2.5e-7 relative of a double-precision
 * sigmoid of the same float sums, saturating without NaN; and an element's result the same
 * bits wherever it sits: alone, at every place of rows of every length 1..40, whatever its
 * neighbours, which reproducible mode needs (a rank's rows are not another's). Each code
 * path this CPU runs (AVX-512, AVX2, scalar) is checked. */
#include <math.h>
#include <string.h>

#include "nn_test.h"
#include "nnmpi/nn_rng.h"
#include "nnmpi/nn_vmath.h"

enum { N = 4096, MAX_ROW = 40 };

static float x[N], bias[N], sig[N];

static void test_accuracy(void)
{
    NnRng rng;
    nn_rng_seed(&rng, 5, 1, 1);
    for (int i = 0; i < N; i++) {
        x[i] = nn_rng_symmetric(&rng, 40.0f);
        bias[i] = nn_rng_symmetric(&rng, 2.0f);
    }
    memcpy(sig, x, sizeof x);
    nn_vmath_sigmoid(sig, bias, N);
    double worst_sig = 0.0;
    for (int i = 0; i < N; i++) {
        double z = (double)(x[i] + bias[i]); /* the float sum, as the function takes it */
        double want = 1.0 / (1.0 + exp(-z));
        worst_sig = fmax(worst_sig, fabs(sig[i] - want) / want);
    }
    printf("vmath: worst relative error of the sigmoid %.2e\n", worst_sig);
    CHECK(worst_sig < 2.5e-7);
    /* The ends: saturation, no NaN. */
    float ends[4] = {-200.0f, 200.0f, -0.0f, 0.0f};
    nn_vmath_sigmoid(ends, NULL, 4);
    CHECK(ends[0] == 0.0f && ends[1] == 1.0f && ends[2] == 0.5f && ends[3] == 0.5f);
}

/* Element i of a row starting at `start` of length n, against its value alone. */
static void test_position_independence(void)
{
    float alone[MAX_ROW + 1], alone_nobias[MAX_ROW + 1], row[MAX_ROW];
    int mismatches = 0;
    for (int start = 0; start < 64; start += 7) {
        for (int i = 0; i <= MAX_ROW; i++) { /* each element on its own */
            alone[i] = x[start + i];
            nn_vmath_sigmoid(&alone[i], &bias[start + i], 1);
            alone_nobias[i] = x[start + i] * 0.5f;
            nn_vmath_sigmoid(&alone_nobias[i], NULL, 1);
        }
        for (int n = 1; n <= MAX_ROW; n++) {
            memcpy(row, x + start, sizeof(float) * (size_t)n);
            nn_vmath_sigmoid(row, bias + start, n);
            for (int i = 0; i < n; i++) mismatches += memcmp(&row[i], &alone[i], 4) != 0;
            for (int i = 0; i < n; i++) row[i] = x[start + i] * 0.5f;
            nn_vmath_sigmoid(row, NULL, n);
            for (int i = 0; i < n; i++) mismatches += memcmp(&row[i], &alone_nobias[i], 4) != 0;
        }
    }
    printf("vmath: %d elements differ from their value alone\n", mismatches);
    CHECK(mismatches == 0);
}

int main(void)
{
    /* Every path this CPU runs (each keeps its own bits; a run takes one path throughout). */
    static const struct {
        NnVmathPath path;
        const char *name;
    } paths[] = {{NN_VMATH_AVX512, "AVX-512"}, {NN_VMATH_AVX2, "AVX2"}, {NN_VMATH_SCALAR, "scalar"}};
    int ran = 0;
    for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
        if (!nn_vmath_use(paths[p].path)) {
            printf("vmath: this CPU has no %s path\n", paths[p].name);
            continue;
        }
        printf("vmath: the %s path\n", paths[p].name);
        test_accuracy();
        test_position_independence();
        ran++;
    }
    CHECK(ran >= 1);
    CHECK(nn_vmath_use(NN_VMATH_BEST));
    return nn_test_finish("test_vmath");
}
