#include "nnmpi/nn_dryrun.h"

#include <mpi.h>
#include <sys/resource.h>

#include "nnmpi/nn_comm.h"
#include "nnmpi/nn_optim.h"
#include "nnmpi/nn_progress.h"

double nn_dryrun_estimate(int64_t epochs, int64_t epochs_done, int64_t step_in_epoch,
                          int64_t steps_per_epoch, double step_seconds, double epoch_overhead)
{
    if (epochs_done >= epochs) return 0.0;
    double first = (double)(steps_per_epoch - step_in_epoch) * step_seconds + epoch_overhead;
    double later = (double)(steps_per_epoch)*step_seconds + epoch_overhead;
    return first + (double)(epochs - epochs_done - 1) * later;
}

static double mib(double bytes)
{
    return bytes / 1048576.0;
}

void nn_dryrun(const NnDryRun *d)
{
    NnTrainer *t = d->trainer;
    const NnConfig *cfg = d->cfg;
    int64_t epoch = d->epochs_done < cfg->epochs ? d->epochs_done : 0;
    int64_t first = d->epochs_done < cfg->epochs ? d->step_in_epoch : 0;
    int64_t steps = t->steps_per_epoch;
    if (first >= steps) first = 0;

    /* The epoch's sample exchange, a few untimed steps, then the timed ones. */
    NN_MPI_CHECK(MPI_Barrier(t->comm));
    double start = MPI_Wtime();
    nn_trainer_begin_epoch(t, epoch);
    double exchange = MPI_Wtime() - start;
    int64_t step = first, timed = 0;
    for (int i = 0; i < NN_DRYRUN_WARMUP && step < steps; i++, step++)
        nn_trainer_step(t, step, (float)nn_lr_at(cfg, epoch, step, steps), 0);
    NN_MPI_CHECK(MPI_Barrier(t->comm));
    start = MPI_Wtime();
    for (; timed < NN_DRYRUN_TIMED && step < steps; timed++, step++)
        nn_trainer_step(t, step, (float)nn_lr_at(cfg, epoch, step, steps), 0);
    double step_seconds = timed ? (MPI_Wtime() - start) / (double)timed : 0.0;
    start = MPI_Wtime();
    nn_trainer_evaluate(t, NN_SPLIT_VALIDATION);
    int every_epoch = cfg->log_test == NN_LOG_TEST_EVERY_EPOCH;
    double validation = MPI_Wtime() - start;
    start = MPI_Wtime();
    nn_trainer_evaluate(t, NN_SPLIT_TEST);
    double test = MPI_Wtime() - start;
    /* The slowest rank's times decide. */
    double times[4] = {exchange, step_seconds, validation, test};
    NN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, times, 4, MPI_DOUBLE, MPI_MAX, t->comm));
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    double peak = (double)usage.ru_maxrss * 1024.0;
    NN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &peak, 1, MPI_DOUBLE, MPI_MAX, t->comm));
    if (!d->out) return;

    FILE *out = d->out;
    const NnModel *m = &t->model;
    double overhead = times[0] + times[2] + (every_epoch ? times[3] : 0.0);
    double epoch_seconds = (double)steps * times[1] + overhead;
    double total = nn_dryrun_estimate(cfg->epochs, d->epochs_done, d->step_in_epoch, steps,
                                      times[1], overhead);
    if (!every_epoch) total += times[3]; /* once, at the end */
    int64_t rec_bytes = nn_samples_record_size(&t->test);
    double params = 4.0 * (double)m->n_params;
    double state = 4.0 * (double)nn_optim_state_floats(t->optim.type, m->n_params);
    char epoch_text[32], total_text[32];
    nn_progress_format_duration(epoch_seconds, epoch_text, sizeof epoch_text);
    nn_progress_format_duration(total, total_text, sizeof total_text);

    fprintf(out, "dry run: nothing is written\n\nresolved config:\n%s\n", d->config_text);
    fprintf(out, "model: %d", m->inputs);
    for (int l = 0; l < m->n_layers; l++) fprintf(out, "-%d", m->layers[l].out);
    fprintf(out, " %s/%s\n", nn_activation_name(m->activation), nn_loss_name(m->loss));
    for (int l = 0; l < m->n_layers; l++) {
        const NnLayer *L = &m->layers[l];
        fprintf(out, "  layer %d: %d -> %d, %s, %zu parameters\n", l, L->in, L->out,
                l + 1 < m->n_layers ? nn_activation_name(m->activation)
                : m->loss == NN_LOSS_CROSS_ENTROPY ? "softmax"
                : m->loss == NN_LOSS_MSE           ? "sigmoid"
                                                   : "linear",
                (size_t)L->out * L->in + L->out);
    }
    fprintf(out, "  %zu parameters: %.2f MiB of float32 weights\n", m->n_params, mib(params));
    fprintf(out,
            "memory: weights and optimizer state %.2f MiB once per node; per rank %d gradient "
            "row%s of %.2f MiB and about %.2f MiB of training records (%lld bytes each); "
            "largest peak resident memory of a rank after loading and the timed steps: %.1f "
            "MiB\n",
            mib(params + state), t->sums.exact_rows ? t->sums.exact_rows : 1,
            t->sums.exact_rows > 1 ? "s" : "", mib(params),
            mib((double)t->n_train / t->size * (double)rec_bytes), (long long)rec_bytes,
            mib(peak));
    fprintf(out, "data: %s: %lld training samples (an epoch), %lld validation, %lld test; %d "
                 "features, %s",
            cfg->data_path, (long long)t->n_train, (long long)t->validation.total,
            (long long)t->test.total, t->train.features,
            t->train.targets ? "regression" : "classification");
    const NnAugment *aug = &t->exchange.augment;
    if (aug->shift)
        fprintf(out, "; training images (%d x %d) shifted by up to %d pixels", aug->rows,
                aug->cols, aug->shift);
    fprintf(out, "\nschedule: %d epochs of %lld steps of %d samples (the global batch) on %d "
                 "rank%s, %s sums",
            cfg->epochs, (long long)steps, cfg->batch_size, t->size, t->size == 1 ? "" : "s",
            cfg->reproducible ? "exact (reproducible)" : "float");
    int64_t warmup = nn_warmup_steps(cfg, steps);
    if (warmup) fprintf(out, "; a linear warm-up over %lld steps", (long long)warmup);
    if (cfg->clip_grad_norm > 0)
        fprintf(out, "; gradients clipped to global norm %g", cfg->clip_grad_norm);
    fprintf(out, "\n");
    if (!d->run_path[0])
        fprintf(out, "run directory: none ([run] dir is empty): no checkpoints\n");
    else if (d->resumed)
        fprintf(out, "run directory: %s, resuming from %s at epoch %lld step %lld\n",
                d->run_path, d->from, (long long)d->epochs_done + 1,
                (long long)d->step_in_epoch);
    else
        fprintf(out, "run directory: %s would be created\n", d->run_path);
    fprintf(out, "timing: %lld steps at %.4f s each (%.0f samples/s), the epoch's exchange "
                 "%.3f s, validation %.3f s, test %.3f s\n",
            (long long)timed, times[1], times[1] > 0 ? cfg->batch_size / times[1] : 0.0,
            times[0], times[2], times[3]);
    fprintf(out, "estimate: %.2f s (%s) per epoch, %.1f s (%s) for the %lld epoch%s to go\n",
            epoch_seconds, epoch_text, total, total_text,
            (long long)(cfg->epochs - d->epochs_done),
            cfg->epochs - d->epochs_done == 1 ? "" : "s");
    fflush(out);
}
