/* A minimal test harness: CHECK macros that report file:line and keep going, and a
 * summary that turns any failure into a non-zero exit status. */
#ifndef NNMPI_TESTS_NN_TEST_H
#define NNMPI_TESTS_NN_TEST_H

#include <stdio.h>
#include <string.h>

static int nn_test_failures = 0;

#define CHECK(cond)                                                                       \
    do {                                                                                  \
        if (!(cond)) {                                                                    \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);      \
            nn_test_failures++;                                                           \
        }                                                                                 \
    } while (0)

/* Fails unless text contains needle; prints both. */
#define CHECK_CONTAINS(text, needle)                                                      \
    do {                                                                                  \
        const char *t_ = (text), *n_ = (needle);                                          \
        if (!t_ || !strstr(t_, n_)) {                                                     \
            fprintf(stderr, "%s:%d: CHECK failed: \"%s\" does not contain \"%s\"\n",      \
                    __FILE__, __LINE__, t_ ? t_ : "(null)", n_);                          \
            nn_test_failures++;                                                           \
        }                                                                                 \
    } while (0)

/* Fails unless text is exactly expected; prints both. */
#define CHECK_STREQ(text, expected)                                                       \
    do {                                                                                  \
        const char *t_ = (text), *e_ = (expected);                                        \
        if (!t_ || strcmp(t_, e_) != 0) {                                                 \
            fprintf(stderr, "%s:%d: CHECK failed: \"%s\" is not \"%s\"\n", __FILE__,      \
                    __LINE__, t_ ? t_ : "(null)", e_);                                    \
            nn_test_failures++;                                                           \
        }                                                                                 \
    } while (0)

/* Prints a summary; returns the process exit status (0 only when nothing failed). */
static inline int nn_test_finish(const char *name)
{
    if (nn_test_failures)
        fprintf(stderr, "%s: %d check(s) failed\n", name, nn_test_failures);
    else
        printf("%s: all checks passed\n", name);
    return nn_test_failures ? 1 : 0;
}

#endif
