#include "nnmpi/nn_stop.h"

#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t first_signal = 0;
static struct timespec first_time;
static unsigned grace = 0;

static void on_stop_signal(int signo)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now); /* async-signal-safe */
    if (first_signal) {
        /* The same request often arrives twice (a launcher forwards it and the scheduler
         * also signals each rank): only a later one means "stop now". */
        if (now.tv_sec - first_time.tv_sec >= NN_STOP_REPEAT_SECONDS)
            _exit(NN_EXIT_STOPPED_AT_ONCE);
        return;
    }
    first_time = now;
    first_signal = signo;
    if (grace) alarm(grace);
}

static void on_grace_expired(int signo)
{
    (void)signo;
    _exit(NN_EXIT_STOPPED_AT_ONCE);
}

static void handle(int signo, void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    sigaction(signo, &sa, NULL);
}

void nn_stop_install(NnExtraSignal extra, int grace_seconds)
{
    static const int EXTRA[] = {0, SIGHUP, SIGINT, SIGQUIT, SIGUSR2, SIGXCPU};
    grace = (unsigned)grace_seconds;
    handle(SIGTERM, on_stop_signal);
    handle(SIGUSR1, on_stop_signal);
    if (EXTRA[extra]) handle(EXTRA[extra], on_stop_signal);
    handle(SIGALRM, on_grace_expired);
}

int nn_stop_signal(void)
{
    return first_signal;
}

const char *nn_signal_name(int signo)
{
    switch (signo) {
    case SIGTERM: return "SIGTERM";
    case SIGUSR1: return "SIGUSR1";
    case SIGUSR2: return "SIGUSR2";
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGXCPU: return "SIGXCPU";
    default: return "a signal";
    }
}
