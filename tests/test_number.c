/* The converters' number parsing (nn_number.h) against strtod, bit for bit, on fixed cases
 * and a million random decimal strings of the forms CSV and LIBSVM files hold; and the
 * hold-out rule (nn_writer_holdout): fractions met, a pure function of (seed, row). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_test.h"
#include "nnmpi/nn_dataset_writer.h"
#include "nnmpi/nn_number.h"

static uint64_t state = 88172645463325252ULL;
static uint64_t next(void)
{
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    return state;
}

/* Parses s both ways: same acceptance, same bits. */
static int agrees(const char *s)
{
    char *end;
    double want = strtod(s, &end);
    int strtod_ok = *s && *end == '\0' && isfinite(want) && !strchr(s, 'x'); /* decimal only */
    double got = 0;
    int ok = nn_parse_double(s, strlen(s), &got) == 0;
    if (ok != strtod_ok || (ok && memcmp(&got, &want, sizeof got) != 0)) {
        fprintf(stderr, "'%s': nn_parse_double %s %.17g, strtod %s %.17g\n", s,
                ok ? "ok" : "refused", got, strtod_ok ? "ok" : "refused", want);
        return 0;
    }
    return 1;
}

int main(void)
{
    const char *fixed[] = {"0", "-0", "+1", "1.5", "-4e-1", ".5", "5.", "1e22", "1e23", "9007199254740993",
                           "123456789012345", "1234567890123456", "0.000000000000000001234",
                           "3.4028235e38", "1e-320", "2.2250738585072014e-308", "0x10", "1e", "e5",
                           "1.2.3", "--1", "", ".", "nan", "inf", "1e400", "12abc", "8.692932128906250000e-01",
                           "1e-22", "4.9e-324", "007", "1E+05"};
    for (size_t i = 0; i < sizeof fixed / sizeof *fixed; i++) CHECK(agrees(fixed[i]));
    char buf[64];
    int bad = 0;
    for (int i = 0; i < 1000000 && bad < 10; i++) {
        int digits = 1 + (int)(next() % 19), point = (int)(next() % (digits + 1));
        size_t n = 0;
        if (next() % 3 == 0) buf[n++] = '-';
        for (int d = 0; d < digits; d++) {
            if (d == point && next() % 2) buf[n++] = '.';
            buf[n++] = (char)('0' + next() % 10);
        }
        if (next() % 3 == 0) n += (size_t)sprintf(buf + n, "e%d", (int)(next() % 70) - 35);
        buf[n] = '\0';
        if (!agrees(buf)) bad++;
    }
    CHECK(bad == 0);
    float f;
    CHECK(nn_parse_float("0.1", 3, &f) == 0 && f == 0.1f);
    CHECK(nn_parse_float("1e39", 4, &f) != 0); /* beyond float32 */
    CHECK(nn_parse_float("12,5", 2, &f) == 0 && f == 12.0f); /* only n bytes are read */
    int64_t label;
    CHECK(nn_parse_label("+1", 2, &label) == 0 && label == 1);
    CHECK(nn_parse_label("-3", 2, &label) == 0 && label == -3);
    CHECK(nn_parse_label("2.0", 3, &label) == 0 && label == 2);
    CHECK(nn_parse_label("2.5", 3, &label) != 0);
    CHECK(nn_parse_label("cat", 3, &label) != 0);

    /* Hold-out: the fractions within 1% on 100,000 rows; pure; another seed, other rows. */
    int64_t count[NN_SPLIT_COUNT] = {0}, moved = 0;
    for (int64_t i = 0; i < 100000; i++) {
        NnSplit s = nn_writer_holdout(42, i, 0.2, 0.1);
        count[s]++;
        CHECK(s == nn_writer_holdout(42, i, 0.2, 0.1));
        moved += s != nn_writer_holdout(43, i, 0.2, 0.1);
    }
    CHECK(labs((long)(count[NN_SPLIT_TEST] - 20000)) < 1000);
    CHECK(labs((long)(count[NN_SPLIT_VALIDATION] - 10000)) < 1000);
    CHECK(moved > 30000);
    CHECK(nn_writer_holdout(42, 7, 0, 0) == NN_SPLIT_TRAIN);
    return nn_test_finish("number");
}
