/* Status codes, error messages and always-on invariant checks shared by every module.
 *
 * Failures in collective code: one rule, "agree, then free".
 *   1. A failure that one rank can have alone (an allocation, a file, a check of its own
 *      rows) is a returned status, never an NN_ASSERT, exit() or abort(): out of memory
 *      included. NN_ASSERT is for bugs only.
 *   2. Before anything collective is freed (a window, a communicator, a datatype) or
 *      skipped (a collective the other ranks will enter), the ranks agree on the status
 *      with nn_comm_agree (nn_comm.h), one collective that every rank joins, failing or
 *      not. Then every rank takes the same path: all free together, or all go on.
 *   3. A collective function whose header says "the status is agreed" has done step 2
 *      itself: on failure every rank gets the same status and the failing rank's message
 *      ("rank R: ..."), and nothing needs freeing. Its caller must not agree again on it.
 *   4. The program's driver prints the agreed message once (rank 0) and every rank exits
 *      with the same status; MPI_Abort is only for MPI's own failures (nn_comm_die).
 * The test fault alloc_fail@RANK:STAGE (nn_fault.h) makes each start-up allocation fail
 * on one rank; tests/alloc_fail.sh checks that every rank then exits 1 with the message. */
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
