#include "nnmpi/nn_runlog.h"

#include <errno.h>
#include <math.h>
#include <mpi.h>
#include <stdarg.h>
#include <string.h>

#include "nnmpi/nn_hash.h"

NnStatus nn_runlog_open_metrics(NnRunLog *log, const char *path, char err[NN_ERR_LEN])
{
    log->metrics = fopen(path, "a");
    if (!log->metrics)
        return nn_fail(err, "%s: cannot open metrics file: %s", path, strerror(errno));
    return NN_OK;
}

void nn_runlog_note(NnRunLog *log, const char *fmt, ...)
{
    if (!log->out) return;
    nn_progress_clear(&log->progress);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(log->out, fmt, ap);
    va_end(ap);
    fputc('\n', log->out);
    fflush(log->out);
}

/* ---- JSON ---- */

static void json_string(FILE *f, const char *text)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p == '\t')
            fputs("\\t", f);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

/* ,"key":value with null for NaN and infinities (which JSON cannot express). */
static void json_number(FILE *f, const char *key, double v)
{
    if (isfinite(v))
        fprintf(f, ",\"%s\":%.9g", key, v);
    else
        fprintf(f, ",\"%s\":null", key);
}

/* {"event":"NAME","run":"ID" */
static void json_begin(const NnRunLog *log, const char *event)
{
    fprintf(log->metrics, "{\"event\":\"%s\",\"run\":", event);
    json_string(log->metrics, log->run_id);
}

static void json_end(const NnRunLog *log)
{
    fputs("}\n", log->metrics);
    fflush(log->metrics);
}

/* ---- events ---- */

void nn_runlog_start(NnRunLog *log, const char *resumed_from, const NnTrainState *state,
                     int nranks, const char *hosts, const char *run_dir,
                     const char *config_text)
{
    if (!log->metrics) return;
    FILE *f = log->metrics;
    json_begin(log, resumed_from ? "resume" : "start");
    fprintf(f, ",\"version\":\"%s\",\"nranks\":%d,\"hosts\":[", NN_VERSION, nranks);
    for (const char *h = hosts; *h;) {
        size_t n = strcspn(h, ",");
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)n, h);
        if (h != hosts) fputc(',', f);
        json_string(f, name);
        h += n + (h[n] == ',');
    }
    fputs("],\"run_dir\":", f);
    json_string(f, run_dir);
    if (resumed_from) {
        fputs(",\"from\":", f);
        json_string(f, resumed_from);
        fprintf(f, ",\"epoch\":%lld,\"step\":%lld", (long long)state->epochs_done + 1,
                (long long)state->global_step);
    }
    fputs(",\"config\":", f);
    json_string(f, config_text);
    fprintf(f, ",\"startup_sec\":%.3f", MPI_Wtime() - log->started);
    json_end(log);
}

void nn_runlog_train(NnRunLog *log, int64_t epoch, int epochs, int64_t step,
                     int64_t steps_per_epoch, int64_t global_step, double mean_loss, double lr,
                     double grad_norm)
{
    if (log->progress.mode == NN_PROGRESS_LINES) {
        char pace[128];
        nn_progress_suffix(&log->progress, step + 1, MPI_Wtime(), pace, sizeof pace);
        fprintf(log->out, "epoch %lld/%d step %lld/%lld train_loss %.6f lr %.6g%s\n",
                (long long)epoch + 1, epochs, (long long)step + 1, (long long)steps_per_epoch,
                mean_loss, lr, pace);
        fflush(log->out);
    }
    if (!log->metrics) return;
    json_begin(log, "train");
    fprintf(log->metrics, ",\"epoch\":%lld,\"step\":%lld", (long long)epoch + 1,
            (long long)global_step);
    json_number(log->metrics, "train_loss", mean_loss);
    json_number(log->metrics, "lr", lr);
    if (!isnan(grad_norm)) json_number(log->metrics, "grad_norm", grad_norm);
    json_end(log);
}

void nn_runlog_epoch(NnRunLog *log, const NnEpochReport *r)
{
    const NnTrainState *s = r->state;
    double elapsed = MPI_Wtime() - log->started;
    char hash[17];
    nn_hash_hex(r->params_hash, hash);
    nn_progress_clear(&log->progress);
    fprintf(log->out, "epoch %lld/%d done: train_loss %.6f", (long long)r->epoch + 1, r->epochs,
            s->train_loss);
    const char *names[2] = {"validation", "test"};
    const double losses[2] = {s->validation_loss, s->test_loss};
    const double accuracies[2] = {s->validation_accuracy, s->test_accuracy};
    const NnRegressionErrors *errors[2] = {&r->validation, &r->test};
    for (int i = 0; i < 2; i++) {
        if (isnan(losses[i])) continue;
        fprintf(log->out, " %s_loss %.6f", names[i], losses[i]);
        if (r->regression)
            fprintf(log->out, " %s_rmse %.6g %s_mae %.6g %s_r2 %.6f", names[i], errors[i]->rmse,
                    names[i], errors[i]->mae, names[i], errors[i]->r2);
        else
            fprintf(log->out, " %s_accuracy %.2f%%", names[i], 100.0 * accuracies[i]);
    }
    fprintf(log->out, " samples/s %.0f elapsed %.1f s params_hash %s\n", r->samples_per_sec,
            elapsed, hash);
    fflush(log->out);
    if (!log->metrics) return;
    FILE *f = log->metrics;
    json_begin(log, "epoch");
    fprintf(f, ",\"epoch\":%lld,\"step\":%lld", (long long)r->epoch + 1,
            (long long)s->global_step);
    json_number(f, "train_loss", s->train_loss);
    char key[32];
    for (int i = 0; i < 2; i++) {
        snprintf(key, sizeof key, "%s_loss", names[i]);
        json_number(f, key, losses[i]);
        if (!r->regression) {
            snprintf(key, sizeof key, "%s_accuracy", names[i]);
            json_number(f, key, accuracies[i]);
            continue;
        }
        const char *what[3] = {"rmse", "mae", "r2"};
        const double values[3] = {errors[i]->rmse, errors[i]->mae, errors[i]->r2};
        for (int k = 0; k < 3; k++) {
            snprintf(key, sizeof key, "%s_%s", names[i], what[k]);
            json_number(f, key, values[k]);
        }
    }
    if (s->best_epoch > 0) fprintf(f, ",\"best_epoch\":%lld", (long long)s->best_epoch);
    fprintf(f, ",\"params_hash\":\"%s\",\"samples_per_sec\":%.1f,\"elapsed_sec\":%.3f", hash,
            r->samples_per_sec, elapsed);
    fprintf(f, ",\"exchange_sec\":%.4f,\"allreduce_sec\":%.4f", r->exchange_sec,
            r->allreduce_sec);
    json_end(log);
}

void nn_runlog_checkpoint(NnRunLog *log, const char *path, int64_t step, int best)
{
    nn_progress_clear(&log->progress);
    fprintf(log->out, "checkpoint %s%s\n", path, best ? " (best so far)" : "");
    fflush(log->out);
    if (!log->metrics) return;
    json_begin(log, "checkpoint");
    fprintf(log->metrics, ",\"step\":%lld,\"path\":", (long long)step);
    json_string(log->metrics, path);
    fprintf(log->metrics, ",\"best\":%s", best ? "true" : "false");
    json_end(log);
}

void nn_runlog_early_stop(NnRunLog *log, int64_t epoch, const NnTrainState *state,
                          const char *monitor)
{
    nn_progress_clear(&log->progress);
    fprintf(log->out,
            "early stopping after epoch %lld: %s has not improved for %lld epochs; best %.6g "
            "at epoch %lld\n",
            (long long)epoch, monitor, (long long)state->stale_epochs, state->best_value,
            (long long)state->best_epoch);
    fflush(log->out);
    if (!log->metrics) return;
    json_begin(log, "early_stop");
    fprintf(log->metrics, ",\"epoch\":%lld,\"best_epoch\":%lld", (long long)epoch,
            (long long)state->best_epoch);
    json_number(log->metrics, "best_value", state->best_value);
    fprintf(log->metrics, ",\"monitor\":\"%s\"", monitor);
    json_end(log);
}

void nn_runlog_end(NnRunLog *log, const char *status, double peak_rss_mib)
{
    nn_progress_clear(&log->progress);
    if (peak_rss_mib > 0)
        fprintf(log->out, "peak memory per rank: at most %.1f MiB\n", peak_rss_mib);
    fflush(log->out);
    if (!log->metrics) return;
    json_begin(log, "end");
    fprintf(log->metrics, ",\"status\":\"%s\"", status);
    if (peak_rss_mib > 0) fprintf(log->metrics, ",\"peak_rss_mib\":%.1f", peak_rss_mib);
    json_end(log);
}

int nn_runlog_failed(const NnRunLog *log)
{
    return ferror(log->out) || (log->metrics && ferror(log->metrics));
}

void nn_runlog_close(NnRunLog *log)
{
    if (log->metrics) fclose(log->metrics);
    log->metrics = NULL;
}
