/* Gradient clipping by global norm ([train] clip_grad_norm, run with -np 1, 2, 3 and in
 * nodes): the step reports the mean gradient's norm before clipping, which equals the one
 * computed from the whole summed gradient of a one-process trainer; when it exceeds c the
 * update's gradient (the velocity, with momentum 0 and no weight decay) has norm c; below
 * it nothing changes. In reproducible mode the norms, weights and velocity are bitwise those
 * of the one-process reference; in plain mode they agree to float rounding. A clip value
 * that is never reached leaves the run bitwise unclipped. */
#include <math.h>
#include <mpi.h>

#include "nn_test.h"
#include "nn_test_data.h"
#include "nnmpi/nn_trainer.h"

enum { FEATURES = 12, CLASSES = 4, TOTAL = 25, EPOCHS = 2, MAX_STEPS = 16 };

static NnConfig test_config(int reproducible, double clip)
{
    NnConfig cfg;
    nn_config_defaults(&cfg);
    cfg.reproducible = reproducible;
    cfg.chunk_size = 3;
    cfg.hidden = (NnIntList){2, {9, 7}};
    cfg.batch_size = 10;
    cfg.learning_rate = 0.5;
    cfg.momentum = 0.0; /* the velocity is then the update's gradient */
    cfg.weight_decay = 0.0;
    cfg.seed = 5;
    cfg.clip_grad_norm = clip;
    return cfg;
}

static double norm(const float *v, size_t n)
{
    long double sum = 0.0L;
    for (size_t i = 0; i < n; i++) sum += (long double)v[i] * v[i];
    return (double)sqrtl(sum);
}

/* Trains EPOCHS epochs on comm; norms[k] gets step k's reported norm and applied[k] the
 * norm of the gradient its update used. With one rank, also checks the reported norm
 * against the whole summed gradient. Returns the number of steps; t keeps the state. */
static int train(NnTrainer *t, MPI_Comm comm, const NnConfig *cfg, double *norms,
                 double *applied)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    NnSplits splits = nn_test_splits(cfg->seed, TOTAL, 0, 7, FEATURES, CLASSES,
                                     nn_trainer_test_unit(cfg), rank, size);
    char err[NN_ERR_LEN];
    CHECK(nn_trainer_init(t, comm, cfg, &splits, err) == NN_OK);
    size_t n = t->model.n_params;
    int k = 0;
    for (int e = 0; e < EPOCHS; e++) {
        nn_trainer_begin_epoch(t, e);
        for (int64_t s = 0; s < t->steps_per_epoch && k < MAX_STEPS; s++, k++) {
            NnStepResult r = nn_trainer_step(t, s, (float)cfg->learning_rate, 0);
            CHECK(r.rejected == 0);
            norms[k] = r.grad_norm;
            applied[k] = norm(t->optim.velocity, n);
            if (cfg->clip_grad_norm == 0) CHECK(isnan(r.grad_norm));
            if (size == 1 && cfg->clip_grad_norm > 0) { /* the whole sum is here */
                double whole = norm(t->model.grads, n) / (double)r.samples;
                CHECK(fabs(whole - r.grad_norm) <= 1e-12 * whole);
            }
        }
    }
    return k;
}

static void check_clip(int reproducible)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    const double c = 0.05; /* below every step's norm here */
    NnConfig cfg = test_config(reproducible, c);
    double norms[MAX_STEPS], applied[MAX_STEPS], ref_norms[MAX_STEPS], ref_applied[MAX_STEPS];
    NnTrainer dist;
    int steps = train(&dist, MPI_COMM_WORLD, &cfg, norms, applied);
    int clipped = 0;
    for (int k = 0; k < steps; k++) {
        CHECK(isfinite(norms[k]) && norms[k] > 0);
        if (norms[k] + 1e-6 > c) { /* PyTorch: c / (norm + 1e-6) < 1 */
            clipped++;
            /* c up to the 1e-6 in the denominator, and float rounding */
            CHECK(fabs(applied[k] - c) <= 2e-6 * c / norms[k] + 1e-6 * c);
            CHECK(fabs(applied[k] - c * norms[k] / (norms[k] + 1e-6)) <= 1e-6 * c);
        } else {
            CHECK(fabs(applied[k] - norms[k]) <= 1e-6 * norms[k]);
        }
    }
    CHECK(clipped == steps); /* the case the test is about */
    if (rank == 0) {
        NnTrainer ref;
        CHECK(train(&ref, MPI_COMM_SELF, &cfg, ref_norms, ref_applied) == steps);
        size_t n = ref.model.n_params;
        double dn = 0.0;
        for (int k = 0; k < steps; k++)
            dn = fmax(dn, fabs(norms[k] - ref_norms[k]) / ref_norms[k]);
        printf("np %d, %s mode: %d steps clipped to %g (norms %.3g at the first, %.3g at "
               "the last), norms differ from one process's by %.1e relative\n",
               size, reproducible ? "reproducible" : "plain", clipped, c, norms[0],
               norms[steps - 1], dn);
        CHECK(dn < 1e-5);
        if (reproducible || size == 1) {
            CHECK(memcmp(norms, ref_norms, sizeof(double) * (size_t)steps) == 0);
            CHECK(memcmp(dist.model.params, ref.model.params, sizeof(float) * n) == 0);
            CHECK(memcmp(dist.optim.velocity, ref.optim.velocity, sizeof(float) * n) == 0);
        }
        nn_trainer_free(&ref);
    }
    nn_trainer_free(&dist);

    /* A clip value above every norm: bitwise the unclipped run. */
    NnConfig high = test_config(reproducible, 1e6), off = test_config(reproducible, 0);
    NnTrainer a, b;
    train(&a, MPI_COMM_WORLD, &high, norms, applied);
    train(&b, MPI_COMM_WORLD, &off, ref_norms, ref_applied);
    CHECK(memcmp(a.model.params, b.model.params, sizeof(float) * a.model.n_params) == 0);
    nn_trainer_free(&a);
    nn_trainer_free(&b);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    check_clip(0);
    check_clip(1);
    MPI_Allreduce(MPI_IN_PLACE, &nn_test_failures, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    int status = rank == 0 ? nn_test_finish("test_clip") : (nn_test_failures != 0);
    MPI_Finalize();
    return status;
}
