/* The progress display's arithmetic and text (nn_progress.h): ETAs from the pace, durations,
 * the lines form's suffix, and the bar drawn into a memory stream: redrawn in place, at most
 * every 0.2 s but always at an epoch's last step, erased before other lines. */
#include <math.h>
#include <stdlib.h>

#include "nn_test.h"
#include "nnmpi/nn_progress.h"

static void check_durations(void)
{
    char t[32];
    nn_progress_format_duration(0.4, t, sizeof t);
    CHECK_STREQ(t, "0:00");
    nn_progress_format_duration(75.6, t, sizeof t);
    CHECK_STREQ(t, "1:16");
    nn_progress_format_duration(3600 * 2 + 61, t, sizeof t);
    CHECK_STREQ(t, "2:01:01");
    nn_progress_format_duration(NAN, t, sizeof t);
    CHECK_STREQ(t, "?");
    nn_progress_format_duration(-1, t, sizeof t);
    CHECK_STREQ(t, "?");
}

static void check_eta(void)
{
    double epoch_eta, run_eta;
    /* 0.5 s a step, 30 of 100 steps done in epoch 0 of 3, 2 s outside the steps an epoch. */
    nn_progress_eta(0.5, 30, 100, 0, 3, 2.0, &epoch_eta, &run_eta);
    CHECK(epoch_eta == 35.0);
    CHECK(run_eta == 35.0 + 2 * 50.0 + 3 * 2.0);
    /* The last epoch: only what is left of it. */
    nn_progress_eta(0.5, 90, 100, 2, 3, 2.0, &epoch_eta, &run_eta);
    CHECK(epoch_eta == 5.0 && run_eta == 7.0);
    nn_progress_eta(NAN, 0, 100, 0, 3, 0.0, &epoch_eta, &run_eta);
    CHECK(isnan(epoch_eta) && isnan(run_eta));
}

static void check_lines(void)
{
    NnProgress p;
    nn_progress_init(&p, NULL, NN_PROGRESS_AUTO, 2, 100, 50);
    CHECK(p.mode == NN_PROGRESS_LINES); /* no terminal */
    /* Resumed at step 40 at t = 10; at t = 16, 60 steps done: 20 timed steps in 6 s. */
    nn_progress_epoch_start(&p, 0, 40, 10.0);
    char text[128];
    nn_progress_suffix(&p, 60, 16.0, text, sizeof text);
    /* 1000 samples / 6 s; 40 steps left at 0.3 s; then 100 steps of epoch 2. */
    CHECK_STREQ(text, " samples/s 167 eta 0:12 run_eta 0:42");
}

static void check_bar(void)
{
    char *buffer = NULL;
    size_t size = 0;
    FILE *out = open_memstream(&buffer, &size);
    NnProgress p;
    nn_progress_init(&p, out, NN_PROGRESS_BAR, 1, 10, 100);
    nn_progress_epoch_start(&p, 0, 0, 0.0);
    nn_progress_step(&p, 1, 2.0, 0.05); /* drawn: the first */
    nn_progress_step(&p, 2, 1.5, 0.10); /* too soon */
    nn_progress_step(&p, 3, 1.2, 0.30); /* drawn */
    nn_progress_step(&p, 10, 0.5, 0.31); /* drawn: the last step */
    nn_progress_clear(&p);
    nn_progress_clear(&p); /* nothing left to erase */
    fclose(out);
    const char *first = "\r\033[Kepoch 1/1 [##..................] 1/10  10.0% loss 2.0000 2000 "
                        "samples/s ETA 0:00 run 0:00";
    CHECK(strncmp(buffer, first, strlen(first)) == 0);
    CHECK(strstr(buffer, " 2/10 ") == NULL);
    CHECK_CONTAINS(buffer, "[######..............] 3/10  30.0% loss 1.2000 1000 samples/s");
    CHECK_CONTAINS(buffer, "[####################] 10/10 100.0% loss 0.5000");
    size_t n = strlen(buffer);
    CHECK(n >= 4 && strcmp(buffer + n - 4, "\r\033[K") == 0); /* erased once at the end */
    CHECK(strstr(buffer, "\n") == NULL);
    free(buffer);
}

int main(void)
{
    check_durations();
    check_eta();
    check_lines();
    check_bar();
    return nn_test_finish("test_progress");
}
