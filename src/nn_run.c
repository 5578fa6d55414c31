#include "nnmpi/nn_run.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "nnmpi/nn_atomic_file.h"
#include "nnmpi/nn_checkpoint.h"
#include "nnmpi/nn_comm.h"
#include "nnmpi/nn_hash.h"
#include "nnmpi/nn_stop.h"
#include "nnmpi/nn_trainer.h"

/* The run's counters and rank 0's outputs. */
typedef struct {
    const NnRunOptions *opt;
    const NnConfig *cfg;
    NnTrainer *trainer;
    NnTrainState state;
    char fixed_settings[1024]; /* what a resume must not change */
    FILE *metrics;             /* rank 0 only; NULL when not configured */
    double deadline;           /* rank 0: MPI_Wtime() to stop at; INFINITY: none */
    double last_checkpoint;    /* rank 0: MPI_Wtime() of the last checkpoint */
    int training_started;      /* the first epoch of this process has begun */
} Run;

static int is_root(const Run *run)
{
    return run->trainer->rank == 0;
}

/* Rank 0's notes (stdout) and warnings (stderr, prefixed with the rank). */
static void note(const Run *run, const char *text)
{
    if (!is_root(run)) return;
    fprintf(run->opt->log, "%s\n", text);
    fflush(run->opt->log);
}

static void warn(const Run *run, const char *text)
{
    if (is_root(run)) fprintf(stderr, "rank 0: warning: %s\n", text);
}

/* Warns when some node's /dev/shm had no room for the shared copies (nn_node.h). */
static void warn_private_copies(const Run *run)
{
    const NnShmRoom *rooms[2] = {&run->trainer->exchange.room, &run->trainer->sums.room};
    for (int i = 0; i < 2; i++) {
        if (rooms[i]->fits) continue;
        char text[NN_ERR_LEN];
        snprintf(text, sizeof text,
                 "/dev/shm has %.0f MiB free on some node, too little for %.0f MiB of shared "
                 "%s (and 64 MiB to spare): each rank keeps its own copy instead, which is "
                 "slower; give /dev/shm more room (for example docker run --shm-size=1g)",
                 rooms[i]->free_bytes / 1048576.0, rooms[i]->need_bytes / 1048576.0,
                 i == 0 ? "training data" : "weights and gradients");
        warn(run, text);
    }
}

/* The settings that give the sample order and the architecture: a resume must not change
 * them. One "key = value" line each. */
static void describe_fixed_settings(const Run *run, char *out, size_t size)
{
    static const char *const KEYS[][2] = {{"model", "hidden"},   {"model", "activation"},
                                          {"model", "loss"},     {"train", "seed"},
                                          {"train", "batch_size"}};
    const NnTrainer *t = run->trainer;
    size_t used = 0;
    char value[NN_PATH_LEN], err[NN_ERR_LEN];
    for (size_t i = 0; i < sizeof KEYS / sizeof KEYS[0]; i++) {
        NnStatus status = nn_config_value(run->cfg, KEYS[i][0], KEYS[i][1], value, sizeof value, err);
        NN_ASSERT(status == NN_OK);
        used += (size_t)snprintf(out + used, size - used, "[%s] %s = %s\n", KEYS[i][0],
                                 KEYS[i][1], value);
    }
    snprintf(out + used, size - used,
             "training samples = %lld\nfeatures per sample = %d\nclasses = %d\n",
             (long long)t->train.total, t->train.features, t->train.classes);
}

/* Names the first line of fixed settings that differs between a checkpoint and this run. */
static NnStatus compare_fixed_settings(const char *path, const char *stored, const char *ours,
                                       char err[NN_ERR_LEN])
{
    if (strcmp(stored, ours) == 0) return NN_OK;
    const char *a = stored, *b = ours;
    for (;;) {
        size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
        size_t key_a = strcspn(a, "="), key_b = strcspn(b, "=");
        if (la != lb || strncmp(a, b, la) != 0) {
            if (key_a < la && key_a == key_b && strncmp(a, b, key_a) == 0)
                return nn_fail(err,
                               "%s: %.*s is%.*s in the checkpoint but%.*s in this run; it cannot "
                               "change on resume",
                               path, (int)key_a - 1, a, (int)(la - key_a - 1), a + key_a + 1,
                               (int)(lb - key_b - 1), b + key_b + 1);
            return nn_fail(err, "%s: the checkpoint has '%.*s' where this run has '%.*s'", path,
                           (int)la, a, (int)lb, b);
        }
        if (a[la] == '\0' || b[lb] == '\0') break;
        a += la + 1;
        b += lb + 1;
    }
    return nn_fail(err, "%s: the checkpoint's fixed settings differ from this run's", path);
}

/* Rank 0: finds the checkpoint to resume from and loads it into ck. *found is 0 when
 * "auto" finds none. Damaged checkpoints are reported and skipped for older ones. */
static NnStatus pick_checkpoint(const Run *run, const char *resume, NnCheckpoint *ck, int *found,
                                char *path, size_t path_size, char err[NN_ERR_LEN])
{
    *found = 0;
    if (strcmp(resume, "auto") != 0) {
        snprintf(path, path_size, "%s", resume);
        *found = 1;
        return nn_checkpoint_load(path, ck, err);
    }
    const char *dir = run->cfg->checkpoint_dir;
    if (!dir[0]) return nn_fail(err, "resume = auto needs a [checkpoint] dir");
    char text[NN_ERR_LEN + 128];
    int removed = nn_checkpoint_remove_temps(dir);
    if (removed) {
        snprintf(text, sizeof text, "removed %d unfinished checkpoint file(s) from %s", removed, dir);
        warn(run, text);
    }
    int64_t *steps;
    int count;
    if (nn_checkpoint_list(dir, &steps, &count, err) != NN_OK) return NN_ERR;
    for (int i = count - 1; i >= 0 && !*found; i--) {
        nn_checkpoint_path(dir, steps[i], path, path_size);
        if (nn_checkpoint_load(path, ck, err) == NN_OK) {
            *found = 1;
        } else {
            snprintf(text, sizeof text, "skipping %s", err);
            warn(run, text);
        }
    }
    free(steps);
    if (!*found) {
        snprintf(text, sizeof text, "no valid checkpoint in %s: starting from the beginning", dir);
        note(run, text);
    }
    return NN_OK;
}

/* Restores model, optimizer and state from a checkpoint read on rank 0 and broadcast. */
static NnStatus resume(Run *run, const char *how, char err[NN_ERR_LEN])
{
    NnTrainer *t = run->trainer;
    NnCheckpoint ck;
    char path[NN_PATH_LEN + 64] = "";
    int found = 0;
    NnStatus status = NN_OK;
    if (is_root(run)) {
        status = pick_checkpoint(run, how, &ck, &found, path, sizeof path, err);
        int loaded = status == NN_OK && found;
        if (status == NN_OK && found)
            status = compare_fixed_settings(path, ck.fixed_settings, run->fixed_settings, err);
        const NnTrainState *s = &ck.state;
        if (status == NN_OK && found &&
            (s->step_in_epoch < 0 || s->step_in_epoch > t->steps_per_epoch || s->epochs_done < 0))
            status = nn_fail(err, "%s: position epochs_done %lld, step_in_epoch %lld is outside "
                                  "the run (%lld steps per epoch)",
                             path, (long long)s->epochs_done, (long long)s->step_in_epoch,
                             (long long)t->steps_per_epoch);
        if (status == NN_OK && found) {
            NN_ASSERT(ck.model.n_params == t->model.n_params);
            memcpy(t->model.params, ck.model.params, sizeof(float) * t->model.n_params);
            memcpy(t->sgd.velocity, ck.sgd.velocity, sizeof(float) * t->model.n_params);
            run->state = ck.state;
        }
        if (loaded) nn_checkpoint_free(&ck);
    }
    status = nn_comm_agree(t->comm, status, err);
    if (status != NN_OK) return status;
    NN_MPI_CHECK(MPI_Bcast(&found, 1, MPI_INT, 0, t->comm));
    if (!found) return NN_OK;
    nn_trainer_share_state(t);
    NN_MPI_CHECK(MPI_Bcast(&run->state, sizeof run->state, MPI_BYTE, 0, t->comm));
    if (is_root(run))
        fprintf(run->opt->log, "resuming from %s at epoch %lld step %lld (written by %lld ranks)\n",
                path, (long long)run->state.epochs_done + 1,
                (long long)run->state.step_in_epoch, (long long)run->state.nranks);
    return NN_OK;
}

/* Collective: rank 0 writes a checkpoint of the current state and prunes old ones. */
static NnStatus write_checkpoint(Run *run, char err[NN_ERR_LEN])
{
    const NnConfig *cfg = run->cfg;
    NnTrainer *t = run->trainer;
    NnStatus status = NN_OK;
    if (is_root(run)) {
        char path[NN_PATH_LEN + 64];
        nn_checkpoint_path(cfg->checkpoint_dir, run->state.global_step, path, sizeof path);
        run->state.nranks = t->size;
        status = nn_checkpoint_write(path, &t->model, &t->sgd, &run->state, run->opt->config_text,
                                     run->fixed_settings, err);
        if (status == NN_OK)
            status = nn_checkpoint_prune(cfg->checkpoint_dir, cfg->checkpoint_keep,
                                         t->steps_per_epoch * cfg->checkpoint_keep_every_epochs, err);
        if (status == NN_OK) fprintf(run->opt->log, "checkpoint %s\n", path);
        run->last_checkpoint = MPI_Wtime();
    }
    return nn_comm_agree(t->comm, status, err);
}

/* Rank 0: when to stop for the time limit: the earlier of [checkpoint] time_limit after the
 * start and SLURM_JOB_END_TIME, less [checkpoint] time_margin. */
static double find_deadline(const Run *run)
{
    const NnConfig *cfg = run->cfg;
    double deadline = INFINITY;
    if (cfg->time_limit > 0) deadline = run->opt->started + cfg->time_limit;
    const char *end = getenv("SLURM_JOB_END_TIME");
    if (end && *end) {
        char *rest;
        long long end_time = strtoll(end, &rest, 10);
        if (*rest == '\0' && end_time > 0) {
            double at = MPI_Wtime() + (double)(end_time - (long long)time(NULL));
            if (at < deadline) deadline = at;
        } else {
            warn(run, "SLURM_JOB_END_TIME is not a number of seconds: ignored");
        }
    }
    return deadline - cfg->time_margin;
}

static NnStatus open_outputs(Run *run, int resumed, char err[NN_ERR_LEN])
{
    const NnConfig *cfg = run->cfg;
    NnStatus status = NN_OK;
    if (is_root(run) && cfg->checkpoint_dir[0]) status = nn_make_dirs(cfg->checkpoint_dir, err);
    if (status == NN_OK && is_root(run) && cfg->metrics_path[0]) {
        run->metrics = fopen(cfg->metrics_path, resumed ? "a" : "w");
        if (!run->metrics)
            status = nn_fail(err, "%s: cannot open metrics file: %s", cfg->metrics_path,
                             strerror(errno));
    }
    return nn_comm_agree(run->trainer->comm, status, err);
}

/* A JSON number, or null for NaN and infinities (which JSON cannot express). */
static const char *json_number(double v, char *buf, size_t size)
{
    if (!isfinite(v)) return "null";
    snprintf(buf, size, "%.9g", v);
    return buf;
}

/* Rank 0: the periodic training-loss line. */
static void log_train(Run *run, int64_t epoch, int64_t step, double lr)
{
    NnTrainState *s = &run->state;
    double mean = s->log_loss_sum / (double)s->log_samples;
    s->log_loss_sum = 0.0;
    s->log_samples = 0;
    if (!is_root(run)) return;
    fprintf(run->opt->log, "epoch %lld/%d step %lld/%lld train_loss %.6f lr %.6g\n",
            (long long)epoch + 1, run->cfg->epochs, (long long)step + 1,
            (long long)run->trainer->steps_per_epoch, mean, lr);
    if (run->metrics)
        fprintf(run->metrics,
                "{\"event\":\"train\",\"epoch\":%lld,\"step\":%lld,\"train_loss\":%.9g,"
                "\"lr\":%.9g}\n",
                (long long)epoch + 1, (long long)s->global_step, mean, lr);
}

/* Rank 0: the end-of-epoch line. */
static void log_epoch(Run *run, int64_t epoch, double samples_per_sec)
{
    if (!is_root(run)) return;
    const NnTrainState *s = &run->state;
    double elapsed = MPI_Wtime() - run->opt->started;
    char hash[17];
    nn_hash_hex(nn_model_params_hash(&run->trainer->model), hash);
    const NnTrainer *t = run->trainer;
    fprintf(run->opt->log,
            "epoch %lld/%d done: train_loss %.6f test_loss %.6f test_accuracy %.2f%% "
            "samples/s %.0f elapsed %.1f s params_hash %s\n",
            (long long)epoch + 1, run->cfg->epochs, s->train_loss, s->test_loss,
            100.0 * s->test_accuracy, samples_per_sec, elapsed, hash);
    if (run->metrics) {
        char loss[32], test_loss[32], accuracy[32];
        fprintf(run->metrics,
                "{\"event\":\"epoch\",\"epoch\":%lld,\"step\":%lld,\"train_loss\":%s,"
                "\"test_loss\":%s,\"test_accuracy\":%s,\"params_hash\":\"%s\","
                "\"samples_per_sec\":%.1f,\"elapsed_sec\":%.3f,\"exchange_sec\":%.4f,"
                "\"allreduce_sec\":%.4f}\n",
                (long long)epoch + 1, (long long)s->global_step,
                json_number(s->train_loss, loss, sizeof loss),
                json_number(s->test_loss, test_loss, sizeof test_loss),
                json_number(s->test_accuracy, accuracy, sizeof accuracy), hash, samples_per_sec,
                elapsed, t->exchange_seconds, t->allreduce_seconds);
        fflush(run->metrics);
    }
    fflush(run->opt->log);
}

/* This rank's votes for the step about to run. */
static unsigned votes_now(const Run *run)
{
    unsigned votes = nn_stop_signal() ? NN_VOTE_STOP : 0u;
    if (is_root(run)) {
        double now = MPI_Wtime(), minutes = run->cfg->checkpoint_every_minutes;
        if (now >= run->deadline) votes |= NN_VOTE_STOP;
        if (minutes > 0 && now - run->last_checkpoint >= 60.0 * minutes)
            votes |= NN_VOTE_CHECKPOINT;
    }
    return votes;
}

/* Writes the stop checkpoint and says why the run stops. */
static NnStatus stop(Run *run, int64_t epoch, int64_t step, char err[NN_ERR_LEN])
{
    char why[128];
    int signo = nn_stop_signal();
    if (signo)
        snprintf(why, sizeof why, "%s", nn_signal_name(signo));
    else if (is_root(run) && MPI_Wtime() >= run->deadline)
        snprintf(why, sizeof why, "the time limit");
    else
        snprintf(why, sizeof why, "a stop request on another rank");
    if (!run->cfg->checkpoint_dir[0]) {
        snprintf(err, NN_ERR_LEN, "rank 0: stopped by %s at epoch %lld step %lld; no checkpoint "
                                  "written ([checkpoint] dir is empty)",
                 why, (long long)epoch + 1, (long long)step);
        return NN_STOPPED_UNSAVED;
    }
    NnStatus status = write_checkpoint(run, err);
    if (status != NN_OK) return status;
    char text[256];
    snprintf(text, sizeof text, "stopped by %s at epoch %lld step %lld: resume to continue", why,
             (long long)epoch + 1, (long long)step);
    note(run, text);
    return NN_STOPPED;
}

/* Trains epoch `epoch` from step `first` to its end, evaluates and checkpoints. */
static NnStatus run_epoch(Run *run, int64_t epoch, int64_t first, char err[NN_ERR_LEN])
{
    NnTrainer *t = run->trainer;
    const NnConfig *cfg = run->cfg;
    NnTrainState *s = &run->state;
    int64_t steps = t->steps_per_epoch;
    double epoch_start = MPI_Wtime();
    int64_t samples_before = s->epoch_samples;
    int last_epoch = epoch + 1 == cfg->epochs;
    t->exchange_seconds = t->allreduce_seconds = 0.0;
    nn_trainer_begin_epoch(t, epoch);
    if (!run->training_started) {
        run->training_started = 1;
        if (is_root(run) && run->metrics)
            fprintf(run->metrics, "{\"event\":\"start\",\"startup_sec\":%.3f}\n",
                    MPI_Wtime() - run->opt->started);
    }
    for (int64_t step = first; step < steps; step++) {
        double lr = nn_lr_at(cfg, epoch, step, steps);
        NnStepResult r = nn_trainer_step(t, step, (float)lr, votes_now(run));
        /* Every rank sees the same reduced values, so every rank stops here alike. */
        if (r.rejected)
            return nn_comm_agree(
                t->comm,
                nn_fail(err, "%lld gradient values are NaN, infinite or beyond +-%g (the range "
                             "of reproducible mode's exact sums) at epoch %lld step %lld; lower "
                             "[train] learning_rate?",
                        (long long)r.rejected, t->step_limit, (long long)epoch + 1,
                        (long long)step + 1),
                err);
        if (!isfinite(r.loss_sum))
            return nn_comm_agree(t->comm,
                                 nn_fail(err, "training loss is %s at epoch %lld step %lld; lower "
                                              "[train] learning_rate?",
                                         isnan(r.loss_sum) ? "NaN" : "infinite",
                                         (long long)epoch + 1, (long long)step + 1),
                                 err);
        s->epoch_loss_sum += r.loss_sum;
        s->epoch_samples += r.samples;
        s->log_loss_sum += r.loss_sum;
        s->log_samples += r.samples;
        s->global_step++;
        s->samples_seen += r.samples;
        s->step_in_epoch = step + 1;
        if (s->global_step % cfg->log_every_steps == 0) log_train(run, epoch, step, lr);
        if ((r.votes & NN_VOTE_STOP) && !(last_epoch && step + 1 == steps))
            return stop(run, epoch, step + 1, err);
        int due = (r.votes & NN_VOTE_CHECKPOINT) ||
                  (cfg->checkpoint_every_steps > 0 &&
                   s->global_step % cfg->checkpoint_every_steps == 0);
        if (cfg->checkpoint_dir[0] && due && step + 1 < steps) {
            NnStatus status = write_checkpoint(run, err);
            if (status != NN_OK) return status;
        }
    }
    double train_time = MPI_Wtime() - epoch_start;
    double samples_per_sec = (double)(s->epoch_samples - samples_before) /
                             (train_time > 0 ? train_time : 1e-9);
    s->train_loss = s->epoch_samples ? s->epoch_loss_sum / (double)s->epoch_samples : NAN;
    s->epochs_done = epoch + 1;
    s->step_in_epoch = 0;
    s->epoch_loss_sum = 0.0;
    s->epoch_samples = 0;
    NnEvalResult test = nn_trainer_evaluate(t, NN_SPLIT_TEST);
    s->test_loss = test.mean_loss, s->test_accuracy = test.accuracy;
    log_epoch(run, epoch, samples_per_sec);

    NnStatus status = NN_OK;
    int due = (cfg->checkpoint_every_epochs > 0 && (epoch + 1) % cfg->checkpoint_every_epochs == 0) ||
              (cfg->checkpoint_every_steps > 0 && s->global_step % cfg->checkpoint_every_steps == 0);
    if (is_root(run) && (ferror(run->opt->log) || (run->metrics && ferror(run->metrics))))
        status = nn_fail(err, "cannot write the log or %s", cfg->metrics_path);
    status = nn_comm_agree(t->comm, status, err);
    if (status == NN_OK && cfg->checkpoint_dir[0] && (last_epoch || due))
        status = write_checkpoint(run, err);
    return status;
}

/* Rank 0 reports the largest peak resident memory of any rank (one reduction). */
static void report_memory(Run *run)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    double mib = (double)usage.ru_maxrss / 1024.0; /* ru_maxrss is in KiB on Linux */
    NN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &mib, 1, MPI_DOUBLE, MPI_MAX, run->trainer->comm));
    if (!is_root(run)) return;
    fprintf(run->opt->log, "peak memory per rank: at most %.1f MiB\n", mib);
    if (run->metrics) fprintf(run->metrics, "{\"event\":\"end\",\"peak_rss_mib\":%.1f}\n", mib);
}

NnStatus nn_run(const NnRunOptions *opt, char err[NN_ERR_LEN])
{
    const NnConfig *cfg = opt->cfg;
    NnSplits splits;
    NnTrainer trainer;
    Run run = {.opt = opt, .cfg = cfg, .trainer = &trainer};
    if (nn_splits_read(opt->comm, cfg, nn_trainer_test_unit(cfg), &splits, err) != NN_OK)
        return NN_ERR;
    if (nn_trainer_init(&trainer, opt->comm, cfg, &splits, err) != NN_OK) return NN_ERR;

    run.state = (NnTrainState){.seed = cfg->seed,
                               .batch_size = cfg->batch_size,
                               .train_samples = trainer.train.total,
                               .train_loss = NAN,
                               .test_loss = NAN,
                               .test_accuracy = NAN};
    describe_fixed_settings(&run, run.fixed_settings, sizeof run.fixed_settings);
    warn_private_copies(&run);
    run.deadline = find_deadline(&run);
    run.last_checkpoint = MPI_Wtime();
    if (is_root(&run)) {
        char arch[256];
        size_t used = (size_t)snprintf(arch, sizeof arch, "%d", trainer.model.inputs);
        for (int l = 0; l < trainer.model.n_layers && used < sizeof arch; l++)
            used += (size_t)snprintf(arch + used, sizeof arch - used, "-%d",
                                     trainer.model.layers[l].out);
        fprintf(opt->log,
                "nn-mpi %s: %d ranks, model %s %s/%s (%zu parameters), %lld train and %lld "
                "test samples, batch %d (%lld steps per epoch)\n",
                NN_VERSION, trainer.size, arch, nn_activation_name(cfg->activation),
                nn_loss_name(cfg->loss), trainer.model.n_params, (long long)trainer.train.total,
                (long long)trainer.test.total, cfg->batch_size,
                (long long)trainer.steps_per_epoch);
    }
    const char *how = opt->resume ? opt->resume : cfg->resume == NN_RESUME_AUTO ? "auto" : NULL;
    NnStatus status = how ? resume(&run, how, err) : NN_OK;
    if (status == NN_OK) status = open_outputs(&run, run.state.global_step > 0, err);
    if (status == NN_OK && run.state.epochs_done >= cfg->epochs) {
        char text[128];
        snprintf(text, sizeof text, "nothing to do: the checkpoint has %lld of %d epochs done",
                 (long long)run.state.epochs_done, cfg->epochs);
        note(&run, text);
    }
    int64_t first_step = run.state.step_in_epoch; /* non-zero only when resuming mid-epoch */
    for (int64_t e = run.state.epochs_done; status == NN_OK && e < cfg->epochs; e++) {
        status = run_epoch(&run, e, first_step, err);
        first_step = 0;
    }
    if (status == NN_OK) report_memory(&run);
    if (run.metrics) fclose(run.metrics);
    nn_trainer_free(&trainer);
    return status;
}
