#include "nnmpi/nn_progress.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Bars drawn at most this often: a terminal redraw costs far more than a step. */
#define PROGRESS_REDRAW_SECONDS 0.2
#define BAR_WIDTH 20

/* The parent of process pid (from /proc), or 0. */
static long parent_of(long pid)
{
    char path[64], text[512];
    snprintf(path, sizeof path, "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    const char *end = strrchr(text, ')'); /* after the command name, which may hold spaces */
    long ppid = 0;
    if (!end || sscanf(end + 1, " %*c %ld", &ppid) != 1) return 0;
    return ppid;
}

/* 1 when the standard output of process pid is a terminal device. */
static int stdout_is_terminal(long pid)
{
    char path[64], target[PATH_MAX];
    snprintf(path, sizeof path, "/proc/%ld/fd/1", pid);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n <= 0) return 0;
    target[n] = '\0';
    return strncmp(target, "/dev/pts/", 9) == 0 || strncmp(target, "/dev/tty", 8) == 0;
}

/* 1 when out reaches a person's terminal. isatty alone cannot tell under mpirun, which
 * gives its ranks pseudo-terminals of its own whatever its own output is (a file in a batch
 * job): then the launcher's own standard output decides, and an orted (a remote node's
 * daemon) means no terminal. */
static int reaches_terminal(FILE *out)
{
    if (!out || !isatty(fileno(out))) return 0;
    long pid = (long)getppid();
    for (int depth = 0; pid > 1 && depth < 8; depth++, pid = parent_of(pid)) {
        char path[64], name[64] = "";
        snprintf(path, sizeof path, "/proc/%ld/comm", pid);
        FILE *f = fopen(path, "r");
        if (!f) break;
        if (!fgets(name, sizeof name, f)) name[0] = '\0';
        fclose(f);
        name[strcspn(name, "\n")] = '\0';
        if (strcmp(name, "orted") == 0 || strcmp(name, "prted") == 0) return 0;
        if (strcmp(name, "mpirun") == 0 || strcmp(name, "mpiexec") == 0 ||
            strcmp(name, "orterun") == 0 || strcmp(name, "prterun") == 0)
            return stdout_is_terminal(pid);
    }
    return 1;
}

void nn_progress_init(NnProgress *p, FILE *out, NnProgressMode mode, int epochs,
                      int64_t steps_per_epoch, int64_t batch_size)
{
    if (mode == NN_PROGRESS_AUTO)
        mode = reaches_terminal(out) ? NN_PROGRESS_BAR : NN_PROGRESS_LINES;
    *p = (NnProgress){.out = out, .mode = mode, .epochs = epochs,
                      .steps_per_epoch = steps_per_epoch, .batch_size = batch_size,
                      .last_draw = -1.0};
}

void nn_progress_epoch_start(NnProgress *p, int64_t epoch, int64_t first_step, double now)
{
    p->epoch = epoch;
    p->first_step = first_step;
    p->epoch_start = now;
    p->steps_end = now;
}

void nn_progress_format_duration(double seconds, char *out, size_t size)
{
    if (!isfinite(seconds) || seconds < 0) {
        snprintf(out, size, "?");
        return;
    }
    long long s = llround(seconds);
    if (s >= 3600)
        snprintf(out, size, "%lld:%02lld:%02lld", s / 3600, s / 60 % 60, s % 60);
    else
        snprintf(out, size, "%lld:%02lld", s / 60, s % 60);
}

void nn_progress_eta(double per_step, int64_t done, int64_t steps_per_epoch, int64_t epoch,
                     int epochs, double overhead, double *epoch_eta, double *run_eta)
{
    int64_t epochs_after = epochs - epoch - 1 > 0 ? epochs - epoch - 1 : 0;
    *epoch_eta = per_step * (double)(steps_per_epoch - done);
    *run_eta = *epoch_eta + per_step * (double)(epochs_after * steps_per_epoch) +
               overhead * (double)(epochs_after + 1);
}

/* The pace so far in this epoch: seconds per step (NaN before the first step) and
 * samples/s; and the ETAs that follow. */
static void pace(const NnProgress *p, int64_t done, double now, double *rate, double *epoch_eta,
                 double *run_eta)
{
    int64_t timed = done - p->first_step;
    double elapsed = now - p->epoch_start;
    double per_step = timed > 0 ? elapsed / (double)timed : NAN;
    *rate = elapsed > 0 ? (double)(timed * p->batch_size) / elapsed : 0.0;
    nn_progress_eta(per_step, done, p->steps_per_epoch, p->epoch, p->epochs, p->overhead,
                    epoch_eta, run_eta);
}

void nn_progress_suffix(const NnProgress *p, int64_t done, double now, char *out, size_t size)
{
    double rate, epoch_eta, run_eta;
    pace(p, done, now, &rate, &epoch_eta, &run_eta);
    char e[32], r[32];
    nn_progress_format_duration(epoch_eta, e, sizeof e);
    nn_progress_format_duration(run_eta, r, sizeof r);
    snprintf(out, size, " samples/s %.0f eta %s run_eta %s", rate, e, r);
}

void nn_progress_step(NnProgress *p, int64_t done, double loss, double now)
{
    p->steps_end = now;
    if (p->mode != NN_PROGRESS_BAR || !p->out) return;
    int last = done == p->steps_per_epoch;
    if (!last && p->last_draw >= 0 && now - p->last_draw < PROGRESS_REDRAW_SECONDS) return;
    p->last_draw = now;
    double rate, epoch_eta, run_eta;
    pace(p, done, now, &rate, &epoch_eta, &run_eta);
    char bar[BAR_WIDTH + 1], e[32], r[32];
    int filled = (int)(BAR_WIDTH * done / (p->steps_per_epoch > 0 ? p->steps_per_epoch : 1));
    for (int i = 0; i < BAR_WIDTH; i++) bar[i] = i < filled ? '#' : '.';
    bar[BAR_WIDTH] = '\0';
    nn_progress_format_duration(epoch_eta, e, sizeof e);
    nn_progress_format_duration(run_eta, r, sizeof r);
    fprintf(p->out, "\r\033[Kepoch %lld/%d [%s] %lld/%lld %5.1f%% loss %.4f %.0f samples/s ETA %s run %s",
            (long long)p->epoch + 1, p->epochs, bar, (long long)done, (long long)p->steps_per_epoch,
            100.0 * (double)done / (double)(p->steps_per_epoch > 0 ? p->steps_per_epoch : 1), loss,
            rate, e, r);
    fflush(p->out);
}

void nn_progress_epoch_end(NnProgress *p, double now)
{
    p->overhead = now - p->steps_end;
}

void nn_progress_clear(NnProgress *p)
{
    if (p->mode != NN_PROGRESS_BAR || !p->out || p->last_draw < 0) return;
    fputs("\r\033[K", p->out);
    p->last_draw = -1.0;
}
