#include "nnmpi/nn_run.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "nnmpi/nn_checkpoint.h"
#include "nnmpi/nn_comm.h"
#include "nnmpi/nn_fault.h"
#include "nnmpi/nn_resume.h"
#include "nnmpi/nn_rundir.h"
#include "nnmpi/nn_dryrun.h"
#include "nnmpi/nn_runlog.h"
#include "nnmpi/nn_stop.h"
#include "nnmpi/nn_trainer.h"

/* The run's counters and rank 0's outputs. */
typedef struct {
    const NnRunOptions *opt;
    const NnConfig *cfg;
    NnTrainer *trainer;
    NnTrainState state;
    char fixed_settings[NN_FIXED_SETTINGS_LEN]; /* rank 0: what a resume must not change */
    NnDataShape shape;       /* rank 0: the dataset as the probe saw it */
    NnRunDir rundir;         /* rank 0: the locked directory and this run's version_N */
    NnRunLog log;            /* rank 0: stdout and the metrics file */
    NnStart start;           /* rank 0: the checkpoint to continue from, this run's own */
    double deadline;         /* rank 0: MPI_Wtime() to stop at; INFINITY: none */
    double last_checkpoint;  /* rank 0: MPI_Wtime() of the last checkpoint */
    int was_exact;           /* rank 0, resumed: the checkpoint's run summed exactly (1),
                                in floats (0), or unknown (-1) */
} Run;

static int is_root(const Run *run)
{
    return run->trainer->rank == 0;
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

/* Rank 0, before any data is loaded: the dataset's shape, the run directory's lock, where
 * the run starts, its config.ini and metrics file. */
static NnStatus prepare(Run *run, char err[NN_ERR_LEN])
{
    const NnConfig *cfg = run->cfg;
    const NnRunOptions *opt = run->opt;
    NnDataShape *shape = &run->shape;
    if (nn_dataset_probe(cfg->data_path, shape, err) != NN_OK ||
        nn_trainer_check_task(cfg, shape->targets, err) != NN_OK)
        return NN_ERR;
    nn_resume_fixed_settings(cfg, shape, run->fixed_settings);
    NnStatus status = NN_OK;
    if (cfg->run_dir[0] && opt->dry_run)
        status = nn_rundir_check(&run->rundir, cfg->run_dir, opt->run_name, err);
    else if (cfg->run_dir[0])
        status = nn_rundir_lock(&run->rundir, cfg->run_dir, opt->run_name, err);
    if (status != NN_OK) return status;
    const char *how = opt->resume ? opt->resume : cfg->resume == NN_RESUME_AUTO ? "auto" : NULL;
    status = nn_resume_choose(how, opt->new_run, opt->run_name, run->fixed_settings,
                              &run->rundir, &run->log, &run->start, err);
    if (status != NN_OK) return status;
    snprintf(run->log.run_id, sizeof run->log.run_id, "%s", run->rundir.run_id);
    nn_rundir_describe_holder(&run->rundir);
    char metrics[sizeof run->rundir.path + 16] = "";
    if (cfg->metrics_path[0])
        snprintf(metrics, sizeof metrics, "%s", cfg->metrics_path);
    else if (run->rundir.path[0])
        snprintf(metrics, sizeof metrics, "%s/metrics.jsonl", run->rundir.path);
    if (run->rundir.path[0])
        status = nn_rundir_write_file(&run->rundir, "config.ini", opt->config_text, err);
    if (status == NN_OK && metrics[0] && !opt->dry_run)
        status = nn_runlog_open_metrics(&run->log, metrics, err);
    if (status == NN_OK && shape->classes_inferred)
        nn_runlog_note(&run->log, "note: %s has no 'classes' attribute: %d classes inferred "
                                  "from the labels (0..%lld)",
                       cfg->data_path, shape->classes, (long long)shape->max_label);
    return status;
}

/* Rank 0, once the data is loaded: it is what the probe saw (the fixed settings say so). */
static NnStatus check_shape(const Run *run, char err[NN_ERR_LEN])
{
    const NnDataShape *shape = &run->shape;
    const NnSamples *train = &run->trainer->train;
    if (shape->features != train->features || shape->classes != train->classes ||
        shape->targets != train->targets || !nn_preprocess_equal(&shape->prep, &train->prep))
        return nn_fail(err, "%s: the dataset changed while it was loaded (%lld features and %d "
                            "classes before, %d and %d after)",
                       run->cfg->data_path, (long long)shape->features, shape->classes,
                       train->features, train->classes);
    return NN_OK;
}

/* Rank 0: the checkpoint chosen by prepare into the trainer's model and optimizer. */
static NnStatus restore(Run *run, char err[NN_ERR_LEN])
{
    NnTrainer *t = run->trainer;
    const NnCheckpoint *ck = &run->start.ck;
    const NnTrainState *s = &ck->state;
    int same = ck->model.n_layers == t->model.n_layers && ck->model.inputs == t->model.inputs;
    for (int l = 0; same && l < t->model.n_layers; l++)
        same = ck->model.layers[l].out == t->model.layers[l].out;
    if (!same)
        return nn_fail(err, "%s: its layers differ from this run's model", run->start.from);
    if (ck->optim.type != t->optim.type)
        return nn_fail(err, "%s: its optimizer is %s, this run's %s", run->start.from,
                       nn_enum_name(nn_optimizer_names, (int)ck->optim.type),
                       nn_enum_name(nn_optimizer_names, (int)t->optim.type));
    if (s->step_in_epoch < 0 || s->step_in_epoch > t->steps_per_epoch || s->epochs_done < 0)
        return nn_fail(err, "%s: position epochs_done %lld, step_in_epoch %lld is outside "
                            "the run (%lld steps per epoch)",
                       run->start.from, (long long)s->epochs_done,
                       (long long)s->step_in_epoch, (long long)t->steps_per_epoch);
    memcpy(t->model.params, ck->model.params, sizeof(float) * t->model.n_params);
    memcpy(t->optim.state, ck->optim.state,
           sizeof(float) * nn_optim_state_floats(t->optim.type, t->model.n_params));
    t->optim.step = ck->optim.step;
    run->state = *s;
    /* The sums the checkpoint's run used: its config holds the values auto chose. */
    NnConfig was;
    char ignored[NN_ERR_LEN];
    nn_config_defaults(&was);
    run->was_exact = ck->config_text &&
                             nn_config_parse(ck->config_text, run->start.from, &was, ignored) == NN_OK &&
                             was.reproducible <= 1
                         ? was.reproducible
                         : -1;
    return NN_OK;
}

/* The processor names of all ranks, each once, comma separated, on rank 0. Collective; the
 * status is agreed. */
static NnStatus gather_hosts(const Run *run, char *out, size_t size, char err[NN_ERR_LEN])
{
    char mine[MPI_MAX_PROCESSOR_NAME] = "";
    int len = 0;
    NN_MPI_CHECK(MPI_Get_processor_name(mine, &len));
    char *all = NULL;
    NnStatus status = NN_OK;
    if (is_root(run)) {
        all = nn_fault_alloc(NN_STAGE_HOSTS,
                             malloc((size_t)run->trainer->size * MPI_MAX_PROCESSOR_NAME));
        if (!all)
            status = nn_fail(err, "out of memory for the list of hosts of %d ranks",
                             run->trainer->size);
    }
    out[0] = '\0';
    if (nn_comm_agree(run->trainer->comm, status, err) != NN_OK) return NN_ERR;
    NN_MPI_CHECK(MPI_Gather(mine, MPI_MAX_PROCESSOR_NAME, MPI_CHAR, all, MPI_MAX_PROCESSOR_NAME,
                            MPI_CHAR, 0, run->trainer->comm));
    if (!all) return NN_OK;
    size_t used = 0;
    for (int r = 0; r < run->trainer->size; r++) {
        const char *name = all + (size_t)r * MPI_MAX_PROCESSOR_NAME;
        int seen = 0;
        for (int q = 0; q < r && !seen; q++)
            seen = strcmp(name, all + (size_t)q * MPI_MAX_PROCESSOR_NAME) == 0;
        if (!seen && used < size)
            used += (size_t)snprintf(out + used, size - used, "%s%s", used ? "," : "", name);
    }
    free(all);
    return NN_OK;
}

/* Rank 0: the header line, where the run is, and the start or resume event. Collective;
 * the status is agreed. */
static NnStatus announce(Run *run, char err[NN_ERR_LEN])
{
    const NnTrainer *t = run->trainer;
    const NnConfig *cfg = run->cfg;
    char hosts[4096];
    if (gather_hosts(run, hosts, sizeof hosts, err) != NN_OK) return NN_ERR;
    if (!is_root(run)) return NN_OK;
    char arch[256];
    size_t used = (size_t)snprintf(arch, sizeof arch, "%d", t->model.inputs);
    for (int l = 0; l < t->model.n_layers && used < sizeof arch; l++)
        used += (size_t)snprintf(arch + used, sizeof arch - used, "-%d", t->model.layers[l].out);
    nn_runlog_note(&run->log,
                   "nn-mpi %s: %d ranks, model %s %s/%s (%zu parameters), %lld train, %lld "
                   "validation and %lld test samples, batch %d (%lld steps per epoch)",
                   NN_VERSION, t->size, arch, nn_activation_name(cfg->activation),
                   nn_loss_name(cfg->loss), t->model.n_params, (long long)t->n_train,
                   (long long)t->validation.total, (long long)t->test.total, cfg->batch_size,
                   (long long)t->steps_per_epoch);
    int64_t chunks = (cfg->batch_size + cfg->chunk_size - 1) / cfg->chunk_size;
    if (cfg->reproducible)
        nn_runlog_note(&run->log,
                       "reproducible: exact sums of %lld chunks of %d samples a batch, the same "
                       "bits on any number of ranks%s",
                       (long long)chunks, cfg->chunk_size,
                       t->size > chunks ? " (ranks past the chunk count wait)" : "");
    else
        nn_runlog_note(&run->log,
                       "not reproducible: float sums, whose last bits depend on the rank count "
                       "(reproducible = auto sums exactly on up to %lld rank%s at this batch "
                       "size; yes on any)",
                       (long long)chunks, chunks == 1 ? "" : "s");
    if (run->rundir.path[0] && !run->opt->dry_run)
        nn_runlog_note(&run->log, "run %s in %s", run->rundir.run_id, run->rundir.path);
    const NnTrainState *s = &run->state;
    if (run->start.resumed)
        nn_runlog_note(&run->log, "resuming from %s at epoch %lld step %lld (written by %lld ranks)",
                       run->start.from, (long long)s->epochs_done + 1,
                       (long long)s->step_in_epoch, (long long)s->nranks);
    if (run->start.resumed && run->was_exact >= 0 && run->was_exact != cfg->reproducible)
        nn_runlog_note(&run->log,
                       "note: the checkpoint's run summed %s, this one sums %s, so it ends on "
                       "other bits than an uninterrupted run (set [train] reproducible = %s to "
                       "keep them)",
                       run->was_exact ? "exactly" : "floats", cfg->reproducible ? "exactly" : "floats",
                       run->was_exact ? "yes" : "no");
    nn_runlog_start(&run->log, run->start.resumed ? run->start.from : NULL, s, t->size, hosts,
                    run->rundir.path, run->opt->config_text);
    return NN_OK;
}

/* Rank 0: points best.h5 in the run's directory at the checkpoint of `step`. */
static NnStatus mark_best(Run *run, int64_t step, char err[NN_ERR_LEN])
{
    char target[64], link[sizeof run->rundir.path + 16], temp[sizeof link + 32];
    snprintf(target, sizeof target, "ckpt-%09lld.h5", (long long)step);
    snprintf(link, sizeof link, "%s/best.h5", run->rundir.path);
    snprintf(temp, sizeof temp, "%s.tmp.%ld", link, (long)getpid());
    unlink(temp);
    if (symlink(target, temp) != 0 || rename(temp, link) != 0) {
        int e = errno;
        unlink(temp);
        return nn_fail(err, "%s: cannot point it at %s: %s", link, target, strerror(e));
    }
    return NN_OK;
}

/* Collective: rank 0 writes a checkpoint of the current state, marks it best when it is
 * (state.best_step), and applies retention to this run's own checkpoints. */
static NnStatus write_checkpoint(Run *run, char err[NN_ERR_LEN])
{
    const NnConfig *cfg = run->cfg;
    NnTrainer *t = run->trainer;
    NnStatus status = NN_OK;
    if (is_root(run)) {
        char path[sizeof run->rundir.path + 32];
        NnTrainState *s = &run->state;
        nn_checkpoint_path(run->rundir.path, s->global_step, path, sizeof path);
        s->nranks = t->size;
        status = nn_checkpoint_write(path, &t->model, &t->optim, &t->train.prep, s,
                                     run->opt->config_text, run->fixed_settings, err);
        int best = cfg->checkpoint_keep_best && s->best_step == s->global_step;
        if (status == NN_OK) status = nn_checkpoint_set_add(&run->start.own, s->global_step, err);
        if (status == NN_OK && best) status = mark_best(run, s->global_step, err);
        if (status == NN_OK)
            status = nn_checkpoint_retain(run->rundir.path, &run->start.own, cfg->checkpoint_keep,
                                          t->steps_per_epoch * cfg->checkpoint_keep_every_epochs,
                                          cfg->checkpoint_keep_best ? s->best_step : -1, err);
        if (status == NN_OK) nn_runlog_checkpoint(&run->log, path, s->global_step, best);
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

/* The periodic training-loss line (rank 0 prints; every rank resets the sums), with the
 * step's gradient norm before clipping (NaN: not computed). */
static void log_train(Run *run, int64_t epoch, int64_t step, double lr, double grad_norm)
{
    NnTrainState *s = &run->state;
    double mean = s->log_loss_sum / (double)s->log_samples;
    s->log_loss_sum = 0.0;
    s->log_samples = 0;
    if (is_root(run))
        nn_runlog_train(&run->log, epoch, run->cfg->epochs, step, run->trainer->steps_per_epoch,
                        s->global_step, mean, lr, grad_norm);
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
    if (!run->cfg->run_dir[0]) {
        snprintf(err, NN_ERR_LEN, "rank 0: stopped by %s at epoch %lld step %lld; no checkpoint "
                                  "written ([run] dir is empty)",
                 why, (long long)epoch + 1, (long long)step);
        return NN_STOPPED_UNSAVED;
    }
    NnStatus status = write_checkpoint(run, err);
    if (status != NN_OK) return status;
    if (is_root(run))
        nn_runlog_note(&run->log, "stopped by %s at epoch %lld step %lld: resume to continue",
                       why, (long long)epoch + 1, (long long)step);
    return NN_STOPPED;
}

/* Trains epoch `epoch` from step `first` to its end. */
static NnStatus train_epoch(Run *run, int64_t epoch, int64_t first, char err[NN_ERR_LEN])
{
    NnTrainer *t = run->trainer;
    const NnConfig *cfg = run->cfg;
    NnTrainState *s = &run->state;
    int64_t steps = t->steps_per_epoch;
    int last_epoch = epoch + 1 == cfg->epochs;
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
        if (is_root(run))
            nn_progress_step(&run->log.progress, step + 1,
                             s->epoch_loss_sum / (double)s->epoch_samples, MPI_Wtime());
        if (s->global_step % cfg->log_every_steps == 0)
            log_train(run, epoch, step, lr, r.grad_norm);
        if ((r.votes & NN_VOTE_STOP) && !(last_epoch && step + 1 == steps))
            return stop(run, epoch, step + 1, err);
        int due = (r.votes & NN_VOTE_CHECKPOINT) ||
                  (cfg->checkpoint_every_steps > 0 &&
                   s->global_step % cfg->checkpoint_every_steps == 0);
        if (cfg->run_dir[0] && due && step + 1 < steps) {
            NnStatus status = write_checkpoint(run, err);
            if (status != NN_OK) return status;
        }
    }
    return NN_OK;
}

/* After an epoch's validation: whether it is the best so far (by more than min_delta) and
 * how many epochs have passed without one. Returns 1 for a new best. */
static int follow_monitor(NnTrainState *s, const NnConfig *cfg, int64_t epoch)
{
    int by_loss = cfg->monitor == NN_MONITOR_VALIDATION_LOSS;
    double v = by_loss ? s->validation_loss : s->validation_accuracy;
    if (isnan(v)) return 0;
    double gain = by_loss ? s->best_value - v : v - s->best_value;
    if (isnan(s->best_value) || gain > cfg->min_delta) {
        s->best_value = v;
        s->best_epoch = epoch + 1;
        s->best_step = s->global_step;
        s->stale_epochs = 0;
        return 1;
    }
    s->stale_epochs++;
    return 0;
}

/* The end of an epoch: evaluation, the best checkpoint, early stopping, the epoch line and
 * the epoch's checkpoint. *early is set when early stopping ends the run here. */
static NnStatus finish_epoch(Run *run, int64_t epoch, double train_time, int64_t samples,
                             int *early, char err[NN_ERR_LEN])
{
    NnTrainer *t = run->trainer;
    const NnConfig *cfg = run->cfg;
    NnTrainState *s = &run->state;
    s->train_loss = s->epoch_samples ? s->epoch_loss_sum / (double)s->epoch_samples : NAN;
    s->epochs_done = epoch + 1;
    s->step_in_epoch = 0;
    s->epoch_loss_sum = 0.0;
    s->epoch_samples = 0;
    NnEvalResult validation = nn_trainer_evaluate(t, NN_SPLIT_VALIDATION);
    s->validation_loss = validation.mean_loss;
    s->validation_accuracy = validation.accuracy;
    NnEvalResult test = {.mean_loss = NAN, .accuracy = NAN, .rmse = NAN, .mae = NAN, .r2 = NAN};

    /* Rank 0 decides from its (reduced) values, so that every rank decides alike. */
    int decision[2] = {0, 0}; /* a new best; stop early */
    if (is_root(run)) {
        decision[0] = follow_monitor(s, cfg, epoch);
        decision[1] = cfg->early_stopping_patience > 0 &&
                      s->stale_epochs >= cfg->early_stopping_patience;
    }
    NN_MPI_CHECK(MPI_Bcast(decision, 2, MPI_INT, 0, t->comm));
    *early = decision[1];
    int last = epoch + 1 == cfg->epochs || *early;
    s->test_loss = s->test_accuracy = NAN;
    if (cfg->log_test == NN_LOG_TEST_EVERY_EPOCH || last) {
        test = nn_trainer_evaluate(t, NN_SPLIT_TEST);
        s->test_loss = test.mean_loss;
        s->test_accuracy = test.accuracy;
    }
    s->stopped_early = *early;
    if (is_root(run)) {
        NnEpochReport report = {.epoch = epoch,
                                .epochs = cfg->epochs,
                                .state = s,
                                .params_hash = nn_model_params_hash(&t->model),
                                .samples_per_sec = (double)samples /
                                                   (train_time > 0 ? train_time : 1e-9),
                                .exchange_sec = t->exchange_seconds,
                                .allreduce_sec = t->allreduce_seconds,
                                .regression = t->train.targets > 0,
                                .validation = {validation.rmse, validation.mae, validation.r2},
                                .test = {test.rmse, test.mae, test.r2}};
        nn_runlog_epoch(&run->log, &report);
        if (*early)
            nn_runlog_early_stop(&run->log, epoch + 1, s,
                                 cfg->monitor == NN_MONITOR_VALIDATION_LOSS ? "validation_loss"
                                                                            : "validation_accuracy");
    }
    NnStatus status = NN_OK;
    if (is_root(run) && nn_runlog_failed(&run->log))
        status = nn_fail(err, "cannot write the log or the metrics file");
    status = nn_comm_agree(t->comm, status, err);
    int due = (cfg->checkpoint_every_epochs > 0 && (epoch + 1) % cfg->checkpoint_every_epochs == 0) ||
              (cfg->checkpoint_every_steps > 0 && s->global_step % cfg->checkpoint_every_steps == 0) ||
              (cfg->checkpoint_keep_best && decision[0]);
    if (status == NN_OK && cfg->run_dir[0] && (last || due)) status = write_checkpoint(run, err);
    return status;
}

/* Trains epoch `epoch` from step `first` to its end, then finishes it. */
static NnStatus run_epoch(Run *run, int64_t epoch, int64_t first, int *early,
                          char err[NN_ERR_LEN])
{
    NnTrainer *t = run->trainer;
    double epoch_start = MPI_Wtime();
    int64_t samples_before = run->state.epoch_samples;
    t->exchange_seconds = t->allreduce_seconds = 0.0;
    nn_trainer_begin_epoch(t, epoch);
    nn_progress_epoch_start(&run->log.progress, epoch, first, MPI_Wtime());
    NnStatus status = train_epoch(run, epoch, first, err);
    if (status != NN_OK) return status;
    status = finish_epoch(run, epoch, MPI_Wtime() - epoch_start,
                          run->state.epoch_samples - samples_before, early, err);
    nn_progress_epoch_end(&run->log.progress, MPI_Wtime());
    return status;
}

/* The largest peak resident memory of any rank, on rank 0 (one reduction). */
static double peak_memory(Run *run)
{
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    double mib = (double)usage.ru_maxrss / 1024.0; /* ru_maxrss is in KiB on Linux */
    NN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &mib, 1, MPI_DOUBLE, MPI_MAX, run->trainer->comm));
    return mib;
}

/* Loads the data, builds the trainer and restores a chosen checkpoint. Collective. */
static NnStatus build(Run *run, NnTrainer *trainer, char err[NN_ERR_LEN])
{
    const NnRunOptions *opt = run->opt;
    const NnConfig *cfg = run->cfg;
    NnSplits splits;
    if (nn_splits_read(opt->comm, cfg, nn_trainer_test_unit(cfg), &splits, err) != NN_OK)
        return NN_ERR;
    if (nn_trainer_init(trainer, opt->comm, cfg, &splits, err) != NN_OK) return NN_ERR;
    int resumed = run->start.resumed;
    NN_MPI_CHECK(MPI_Bcast(&resumed, 1, MPI_INT, 0, opt->comm));
    run->state = (NnTrainState){.seed = cfg->seed,
                                .batch_size = cfg->batch_size,
                                .train_samples = trainer->n_train,
                                .train_loss = NAN,
                                .test_loss = NAN,
                                .test_accuracy = NAN,
                                .validation_loss = NAN,
                                .validation_accuracy = NAN,
                                .best_value = NAN,
                                .best_step = -1};
    snprintf(run->state.run_id, sizeof run->state.run_id, "%s", run->rundir.run_id);
    NnStatus status = NN_OK;
    if ((cfg->checkpoint_keep_best || cfg->early_stopping_patience > 0) &&
        trainer->validation.total == 0)
        status = nn_refuse(err, "[checkpoint] keep_best and [train] early_stopping_patience "
                                "need a validation split: set [data] validation, or give the "
                                "dataset a /validation group");
    if (status == NN_OK && is_root(run)) status = check_shape(run, err);
    if (status == NN_OK && is_root(run) && resumed) status = restore(run, err);
    status = nn_comm_agree(opt->comm, status, err);
    if (status != NN_OK) {
        nn_trainer_free(trainer);
        return status;
    }
    if (resumed) {
        nn_trainer_share_state(trainer);
        NN_MPI_CHECK(MPI_Bcast(&run->state, sizeof run->state, MPI_BYTE, 0, opt->comm));
    }
    return NN_OK;
}

NnStatus nn_run(const NnRunOptions *opt, char err[NN_ERR_LEN])
{
    const NnConfig *cfg = opt->cfg;
    NnTrainer trainer;
    memset(&trainer, 0, sizeof trainer);
    Run run = {.opt = opt, .cfg = cfg, .trainer = &trainer, .was_exact = -1};
    run.rundir.lock_fd = -1;
    NN_MPI_CHECK(MPI_Comm_rank(opt->comm, &trainer.rank));
    NN_MPI_CHECK(MPI_Comm_size(opt->comm, &trainer.size));
    trainer.comm = opt->comm;
    run.log = (NnRunLog){.out = is_root(&run) ? opt->log : NULL, .started = opt->started};

    NnStatus status = is_root(&run) ? prepare(&run, err) : NN_OK;
    status = nn_comm_agree(opt->comm, status, err);
    if (status == NN_OK) status = build(&run, &trainer, err);
    int built = status == NN_OK;
    if (built) {
        nn_progress_init(&run.log.progress, run.log.out, cfg->progress, cfg->epochs,
                         trainer.steps_per_epoch, cfg->batch_size);
        warn_private_copies(&run);
        run.deadline = find_deadline(&run);
        run.last_checkpoint = MPI_Wtime();
        status = announce(&run, err);
    }
    if (status == NN_OK) {
        if (run.state.stopped_early)
            nn_runlog_note(&run.log, "nothing to do: the run stopped early at epoch %lld (best "
                                     "epoch %lld); nn-mpi eval %s evaluates it",
                           (long long)run.state.epochs_done, (long long)run.state.best_epoch,
                           run.start.from);
        else if (run.state.epochs_done >= cfg->epochs)
            nn_runlog_note(&run.log, "nothing to do: the checkpoint has %lld of %d epochs done; "
                                     "nn-mpi eval %s evaluates it",
                           (long long)run.state.epochs_done, cfg->epochs, run.start.from);
    }
    if (status == NN_OK && opt->dry_run) {
        NnDryRun dry = {.trainer = &trainer,
                        .cfg = cfg,
                        .config_text = opt->config_text,
                        .run_path = run.rundir.path,
                        .resumed = run.start.resumed,
                        .from = run.start.from,
                        .epochs_done = run.state.epochs_done,
                        .step_in_epoch = run.state.step_in_epoch,
                        .out = run.log.out};
        nn_dryrun(&dry);
        built = 0; /* nothing to train; the trainer is freed below */
        nn_trainer_free(&trainer);
    }
    int64_t first_step = run.state.step_in_epoch; /* non-zero only when resuming mid-epoch */
    int early = run.state.stopped_early;
    for (int64_t e = run.state.epochs_done; built && status == NN_OK && !early && e < cfg->epochs;
         e++) {
        status = run_epoch(&run, e, first_step, &early, err);
        first_step = 0;
    }
    if (built) {
        double mib = status == NN_OK ? peak_memory(&run) : 0.0;
        if (is_root(&run))
            nn_runlog_end(&run.log,
                          status == NN_OK ? "finished"
                          : status == NN_STOPPED || status == NN_STOPPED_UNSAVED ? "stopped"
                                                                                 : "failed",
                          mib);
        nn_trainer_free(&trainer);
    }
    nn_runlog_close(&run.log);
    nn_resume_free(&run.start);
    nn_data_shape_free(&run.shape);
    nn_rundir_unlock(&run.rundir);
    return status;
}
