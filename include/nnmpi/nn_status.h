/* Status codes, error messages and always-on invariant checks shared by every module. */
#ifndef NNMPI_NN_STATUS_H
#define NNMPI_NN_STATUS_H

#include <stdio.h>
#include <stdlib.h>

#define NN_VERSION "0.1.0"

/* Every error message fits in a caller-supplied buffer of this many bytes. */
#define NN_ERR_LEN 1024

typedef enum {
    NN_OK = 0,
    NN_ERR = 1,            /* the error message says what went wrong */
    NN_STOPPED = 2,        /* stopped on request after writing a checkpoint */
    NN_STOPPED_UNSAVED = 3, /* stopped on request; no checkpoint directory to write to */
    NN_REFUSED = 4          /* refused to start (the run directory is taken or holds another
                               run, a resume would change a fixed setting): nothing was
                               loaded or written; exit status 2 */
} NnStatus;

/* Formats a message into err (truncating to NN_ERR_LEN) and returns NN_ERR, so that
 * error paths read `return nn_fail(err, "...", ...);`. */
NnStatus nn_fail(char err[NN_ERR_LEN], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The same, returning NN_REFUSED. */
NnStatus nn_refuse(char err[NN_ERR_LEN], const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Invariant checked in every build type; a failure is a bug in nn-mpi, not bad input. */
#define NN_ASSERT(cond)                                                               \
    do {                                                                              \
        if (!(cond)) {                                                                \
            fprintf(stderr, "nn-mpi: internal error: %s:%d: %s\n", __FILE__, __LINE__, \
                    #cond);                                                           \
            abort();                                                                  \
        }                                                                             \
    } while (0)

#endif
