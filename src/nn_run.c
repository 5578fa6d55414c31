#include "nnmpi/nn_run.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "nnmpi/nn_atomic_file.h"
#include "nnmpi/nn_checkpoint.h"
#include "nnmpi/nn_comm.h"
#include "nnmpi/nn_trainer.h"

/* Rank 0's outputs and the run's counters. */
typedef struct {
    const NnRunOptions *opt;
    NnTrainer *trainer;
    NnTrainState state;
    FILE *metrics;  /* rank 0 only; NULL when not configured */
    double started; /* MPI_Wtime at the start of the run */
    double log_loss_sum;
    int64_t log_samples;
} Run;

static int is_root(const Run *run)
{
    return run->trainer->rank == 0;
}

static void architecture(const NnModel *m, char *out, size_t size)
{
    size_t used = (size_t)snprintf(out, size, "%d", m->inputs);
    for (int l = 0; l < m->n_layers && used < size; l++)
        used += (size_t)snprintf(out + used, size - used, "-%d", m->layers[l].out);
}

/* Restores model, optimizer and state from the checkpoint on rank 0 and broadcasts them.
 * Refuses a checkpoint whose sample order (seed, batch size, training rows) differs. */
static NnStatus resume(Run *run, char err[NN_ERR_LEN])
{
    NnTrainer *t = run->trainer;
    const NnConfig *cfg = run->opt->cfg;
    const char *path = run->opt->resume_path;
    NnStatus status = NN_OK;
    if (t->rank == 0) {
        status = nn_checkpoint_read(path, &t->model, &t->sgd, &run->state, err);
        const NnTrainState *s = &run->state;
        if (status == NN_OK && s->seed != cfg->seed)
            status = nn_fail(err, "%s: checkpoint has [train] seed = %lld, the config %lld", path,
                             (long long)s->seed, (long long)cfg->seed);
        if (status == NN_OK && s->batch_size != cfg->batch_size)
            status = nn_fail(err, "%s: checkpoint has [train] batch_size = %lld, the config %d",
                             path, (long long)s->batch_size, cfg->batch_size);
        if (status == NN_OK && s->train_samples != t->train.total)
            status = nn_fail(err, "%s: checkpoint was trained on %lld samples, this run has %lld",
                             path, (long long)s->train_samples, (long long)t->train.total);
        if (status == NN_OK && (s->step_in_epoch < 0 || s->step_in_epoch >= t->steps_per_epoch ||
                                s->epochs_done < 0))
            status = nn_fail(err, "%s: position epochs_done %lld, step_in_epoch %lld is outside "
                                  "the run (%lld steps per epoch)",
                             path, (long long)s->epochs_done, (long long)s->step_in_epoch,
                             (long long)t->steps_per_epoch);
    }
    status = nn_comm_agree(t->comm, status, err);
    if (status != NN_OK) return status;
    NN_MPI_CHECK(MPI_Bcast(t->model.params, (int)t->model.n_params, MPI_FLOAT, 0, t->comm));
    NN_MPI_CHECK(MPI_Bcast(t->sgd.velocity, (int)t->model.n_params, MPI_FLOAT, 0, t->comm));
    NN_MPI_CHECK(MPI_Bcast(&run->state, sizeof run->state, MPI_BYTE, 0, t->comm));
    return NN_OK;
}

static void checkpoint_path(const Run *run, char *path, size_t size)
{
    snprintf(path, size, "%s/ckpt-%09lld.h5", run->opt->cfg->checkpoint_dir,
             (long long)run->state.global_step);
}

/* Rank 0 writes a checkpoint of the current state; other ranks return NN_OK. */
static NnStatus write_checkpoint(Run *run, char err[NN_ERR_LEN])
{
    if (!is_root(run)) return NN_OK;
    char path[NN_PATH_LEN + 64];
    checkpoint_path(run, path, sizeof path);
    NnTrainer *t = run->trainer;
    run->state.nranks = t->size;
    NnStatus status =
        nn_checkpoint_write(path, &t->model, &t->sgd, &run->state, run->opt->config_text, err);
    if (status == NN_OK) fprintf(run->opt->log, "checkpoint %s\n", path);
    return status;
}

static NnStatus open_outputs(Run *run, char err[NN_ERR_LEN])
{
    const NnConfig *cfg = run->opt->cfg;
    NnStatus status = NN_OK;
    if (is_root(run) && cfg->checkpoint_dir[0])
        status = nn_make_dirs(cfg->checkpoint_dir, err);
    if (status == NN_OK && is_root(run) && cfg->metrics_path[0]) {
        run->metrics = fopen(cfg->metrics_path, run->opt->resume_path ? "a" : "w");
        if (!run->metrics)
            status = nn_fail(err, "%s: cannot open metrics file: %s", cfg->metrics_path,
                             strerror(errno));
    }
    return nn_comm_agree(run->trainer->comm, status, err);
}

/* Rank 0: the periodic training-loss line. */
static void log_train(Run *run, int64_t epoch, int64_t step, double lr)
{
    double mean = run->log_loss_sum / (double)run->log_samples;
    run->log_loss_sum = 0.0;
    run->log_samples = 0;
    if (!is_root(run)) return;
    fprintf(run->opt->log, "epoch %lld/%d step %lld/%lld train_loss %.6f lr %.6g\n",
            (long long)epoch + 1, run->opt->cfg->epochs, (long long)step + 1,
            (long long)run->trainer->steps_per_epoch, mean, lr);
    if (run->metrics)
        fprintf(run->metrics,
                "{\"event\":\"train\",\"epoch\":%lld,\"step\":%lld,\"train_loss\":%.9g,"
                "\"lr\":%.9g}\n",
                (long long)epoch + 1, (long long)run->state.global_step, mean, lr);
}

/* A JSON number, or null for NaN and infinities (which JSON cannot express). */
static const char *json_number(double v, char *buf, size_t size)
{
    if (!isfinite(v)) return "null";
    snprintf(buf, size, "%.9g", v);
    return buf;
}

/* Rank 0: the end-of-epoch line. */
static void log_epoch(Run *run, int64_t epoch, double train_loss, double samples_per_sec)
{
    if (!is_root(run)) return;
    const NnTrainState *s = &run->state;
    double elapsed = MPI_Wtime() - run->started;
    fprintf(run->opt->log,
            "epoch %lld/%d done: train_loss %.6f test_loss %.6f test_accuracy %.2f%% "
            "samples/s %.0f elapsed %.1f s\n",
            (long long)epoch + 1, run->opt->cfg->epochs, train_loss, s->test_loss,
            100.0 * s->test_accuracy, samples_per_sec, elapsed);
    if (run->metrics) {
        char loss[32], test_loss[32], accuracy[32];
        fprintf(run->metrics,
                "{\"event\":\"epoch\",\"epoch\":%lld,\"step\":%lld,\"train_loss\":%s,"
                "\"test_loss\":%s,\"test_accuracy\":%s,\"samples_per_sec\":%.1f,"
                "\"elapsed_sec\":%.3f}\n",
                (long long)epoch + 1, (long long)s->global_step,
                json_number(train_loss, loss, sizeof loss),
                json_number(s->test_loss, test_loss, sizeof test_loss),
                json_number(s->test_accuracy, accuracy, sizeof accuracy), samples_per_sec,
                elapsed);
        fflush(run->metrics);
    }
    fflush(run->opt->log);
}

/* Trains epoch `epoch` from step `first` to its end, evaluates and checkpoints. */
static NnStatus run_epoch(Run *run, int64_t epoch, int64_t first, char err[NN_ERR_LEN])
{
    NnTrainer *t = run->trainer;
    const NnConfig *cfg = run->opt->cfg;
    int64_t steps = t->steps_per_epoch;
    double epoch_start = MPI_Wtime(), loss_sum = 0.0;
    int64_t samples = 0;
    nn_trainer_begin_epoch(t, epoch);
    for (int64_t step = first; step < steps; step++) {
        double lr = nn_lr_at(cfg, epoch, step, steps), batch_loss;
        int64_t batch_samples;
        nn_trainer_step(t, step, (float)lr, &batch_loss, &batch_samples);
        if (!isfinite(batch_loss)) {
            /* Every rank sees the same reduced loss, so every rank stops here. */
            nn_fail(err, "training loss is %s at epoch %lld step %lld; lower "
                         "[train] learning_rate?",
                    isnan(batch_loss) ? "NaN" : "infinite", (long long)epoch + 1,
                    (long long)step + 1);
            return nn_comm_agree(t->comm, NN_ERR, err);
        }
        loss_sum += batch_loss;
        samples += batch_samples;
        run->log_loss_sum += batch_loss;
        run->log_samples += batch_samples;
        run->state.global_step++;
        run->state.samples_seen += batch_samples;
        run->state.step_in_epoch = step + 1;
        if (run->state.global_step % cfg->log_every_steps == 0) log_train(run, epoch, step, lr);
        if (cfg->checkpoint_dir[0] && cfg->checkpoint_every_steps > 0 && step + 1 < steps &&
            run->state.global_step % cfg->checkpoint_every_steps == 0) {
            NnStatus status = nn_comm_agree(t->comm, write_checkpoint(run, err), err);
            if (status != NN_OK) return status;
        }
    }
    double train_time = MPI_Wtime() - epoch_start;
    run->state.epochs_done = epoch + 1;
    run->state.step_in_epoch = 0;
    run->state.train_loss = samples ? loss_sum / (double)samples : NAN;
    nn_trainer_evaluate(t, &run->state.test_loss, &run->state.test_accuracy);
    log_epoch(run, epoch, run->state.train_loss, samples / (train_time > 0 ? train_time : 1e-9));

    NnStatus status = NN_OK;
    int last = epoch + 1 == cfg->epochs;
    int due = (cfg->checkpoint_every_epochs > 0 && (epoch + 1) % cfg->checkpoint_every_epochs == 0) ||
              (cfg->checkpoint_every_steps > 0 &&
               run->state.global_step % cfg->checkpoint_every_steps == 0);
    if (cfg->checkpoint_dir[0] && (last || due)) status = write_checkpoint(run, err);
    if (status == NN_OK && is_root(run) && (ferror(run->opt->log) ||
                                            (run->metrics && ferror(run->metrics))))
        status = nn_fail(err, "cannot write the log or %s", cfg->metrics_path);
    return nn_comm_agree(t->comm, status, err);
}

NnStatus nn_run(const NnRunOptions *opt, char err[NN_ERR_LEN])
{
    const NnConfig *cfg = opt->cfg;
    NnSamples train, test;
    NnTrainer trainer;
    Run run = {.opt = opt, .trainer = &trainer, .started = MPI_Wtime()};
    if (nn_dataset_read(opt->comm, cfg->data_path, "train", cfg->train_samples, &train, err) !=
        NN_OK)
        return NN_ERR;
    if (nn_dataset_read(opt->comm, cfg->data_path, "test", cfg->test_samples, &test, err) !=
        NN_OK) {
        nn_samples_free(&train);
        return NN_ERR;
    }
    if (nn_trainer_init(&trainer, opt->comm, cfg, &train, &test, err) != NN_OK) return NN_ERR;

    run.state = (NnTrainState){.seed = cfg->seed,
                               .batch_size = cfg->batch_size,
                               .train_samples = trainer.train.total,
                               .train_loss = NAN,
                               .test_loss = NAN,
                               .test_accuracy = NAN};
    NnStatus status = opt->resume_path ? resume(&run, err) : NN_OK;
    if (status == NN_OK) status = open_outputs(&run, err);
    if (status == NN_OK && is_root(&run)) {
        char arch[256];
        architecture(&trainer.model, arch, sizeof arch);
        fprintf(opt->log,
                "nn-mpi %s: %d ranks, model %s %s/%s (%zu parameters), %lld train and %lld "
                "test samples, batch %d (%lld steps per epoch)\n",
                NN_VERSION, trainer.size, arch, nn_activation_name(cfg->activation),
                nn_loss_name(cfg->loss), trainer.model.n_params, (long long)trainer.train.total,
                (long long)trainer.test.total, cfg->batch_size,
                (long long)trainer.steps_per_epoch);
        if (opt->resume_path)
            fprintf(opt->log, "resuming from %s at epoch %lld step %lld (written by %lld ranks)\n",
                    opt->resume_path, (long long)run.state.epochs_done + 1,
                    (long long)run.state.step_in_epoch, (long long)run.state.nranks);
        if (run.state.epochs_done >= cfg->epochs)
            fprintf(opt->log, "nothing to do: the checkpoint has %lld of %d epochs done\n",
                    (long long)run.state.epochs_done, cfg->epochs);
        fflush(opt->log);
    }
    int64_t first_step = run.state.step_in_epoch; /* non-zero only when resuming mid-epoch */
    for (int64_t e = run.state.epochs_done; status == NN_OK && e < cfg->epochs; e++) {
        status = run_epoch(&run, e, first_step, err);
        first_step = 0;
    }
    if (run.metrics) fclose(run.metrics);
    nn_trainer_free(&trainer);
    return status;
}
