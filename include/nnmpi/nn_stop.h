/* Stop requests. SIGTERM, SIGUSR1 and one configurable signal ask a run to write a
 * checkpoint at the next step boundary and exit with NN_EXIT_STOPPED. The handlers only
 * record the signal (async-signal-safe); the training loop polls nn_stop_signal() and the
 * ranks agree through the step's allreduce. A second signal (NN_STOP_REPEAT_SECONDS or
 * more after the first; earlier ones count as the same request), or no exit within the
 * grace period, ends the process at once with NN_EXIT_STOPPED_AT_ONCE: checkpoints are written
 * to temporary names and renamed, so the previous ones stay valid.
 * This is the program's only global state: a signal handler can reach nothing else. */
#ifndef NNMPI_NN_STOP_H
#define NNMPI_NN_STOP_H

#include "nnmpi/nn_config.h"

enum {
    NN_EXIT_STOPPED = 75,        /* stopped on request after writing a checkpoint */
    NN_EXIT_STOPPED_AT_ONCE = 76 /* stopped on request without a new checkpoint */
};

/* Signals closer together than this are one request. */
#define NN_STOP_REPEAT_SECONDS 2

/* Installs the handlers for SIGTERM, SIGUSR1 and `extra`. grace_seconds 0: no time limit
 * after the first signal. */
void nn_stop_install(NnExtraSignal extra, int grace_seconds);

/* The number of the first stop signal received, or 0. */
int nn_stop_signal(void);

/* "SIGTERM", "SIGUSR1", ... */
const char *nn_signal_name(int signo);

#endif
