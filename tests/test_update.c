/* Data-parallel steps at any rank count (run with -np 1..5, 8) give the update that one
 * process computes from the same weights and the same global batches: batch sizes the rank
 * count does not divide, a last batch smaller than the rest, ranks with empty parts, and a
 * validation split held out of the training rows (evaluated like the test split), and
 * dropout, max-norm and label smoothing (masks per sample; max-norm's rows straddle the
 * ranks' slices of the node-shared weights).
 * The reference is a trainer on MPI_COMM_SELF holding all the data. In reproducible mode
 * the weights, optimizer state, step losses and evaluation are bitwise the reference's; in
 * plain mode they agree to float rounding. */
#include <math.h>
#include <mpi.h>

#include "nn_test.h"
#include "nn_test_data.h"
#include "nnmpi/nn_sampler.h"
#include "nnmpi/nn_trainer.h"

enum { FEATURES = 12, CLASSES = 4 };

/* regularize: dropout on both hidden layers, max-norm (below the rows' initial norms, so
 * that it acts from the first step) and, with cross_entropy, label smoothing. */
static NnConfig test_config(int batch, NnActivation act, NnLoss loss, int reproducible,
                            int regularize)
{
    NnConfig cfg;
    nn_config_defaults(&cfg);
    cfg.reproducible = reproducible;
    cfg.chunk_size = 3;
    cfg.hidden = (NnIntList){2, {9, 7}};
    cfg.activation = act;
    cfg.loss = loss;
    cfg.batch_size = batch;
    cfg.learning_rate = 0.3;
    cfg.momentum = 0.9;
    cfg.weight_decay = 0.01;
    cfg.seed = 3;
    if (regularize) {
        cfg.dropout = (NnRealList){2, {0.3, 0.2}};
        cfg.max_norm = 0.8;
        cfg.label_smoothing = loss == NN_LOSS_CROSS_ENTROPY ? 0.1 : 0.0;
    }
    return cfg;
}

/* Trains `epochs` epochs with comm (every rank holding its shard) on `total` rows less
 * `held_out` validation rows and returns the loss sum of every step and then the test and
 * validation loss and accuracy in losses; leaves the trainer's final state in t. */
static void train(NnTrainer *t, MPI_Comm comm, const NnConfig *cfg, int64_t total,
                  int64_t held_out, int epochs, double *losses)
{
    int rank, size;
    MPI_Comm_rank(comm, &rank);
    MPI_Comm_size(comm, &size);
    NnSplits splits = nn_test_splits(cfg->seed, total, held_out, 17, FEATURES, CLASSES,
                                     nn_trainer_test_unit(cfg), rank, size);
    char err[NN_ERR_LEN];
    CHECK(nn_trainer_init(t, comm, cfg, &splits, err) == NN_OK);
    CHECK(t->steps_per_epoch == nn_sampler_steps(total - held_out, cfg->batch_size));
    int64_t k = 0;
    for (int e = 0; e < epochs; e++) {
        nn_trainer_begin_epoch(t, e);
        for (int64_t s = 0; s < t->steps_per_epoch; s++) {
            NnStepResult r = nn_trainer_step(t, s, (float)nn_lr_at(cfg, e, s, t->steps_per_epoch),
                                             rank == s % size ? NN_VOTE_CHECKPOINT : 0);
            losses[k++] = r.loss_sum;
            CHECK(r.votes == NN_VOTE_CHECKPOINT); /* one rank's vote reaches every rank */
            CHECK(r.rejected == 0);
            int64_t expected = total - held_out - s * cfg->batch_size;
            CHECK(r.samples == (expected < cfg->batch_size ? expected : cfg->batch_size));
        }
    }
    NnEvalResult test = nn_trainer_evaluate(t, NN_SPLIT_TEST);
    NnEvalResult validation = nn_trainer_evaluate(t, NN_SPLIT_VALIDATION);
    CHECK(test.samples == 17 && validation.samples == held_out); /* each sample once */
    CHECK(held_out > 0 || (isnan(validation.mean_loss) && isnan(validation.accuracy)));
    losses[k] = test.mean_loss, losses[k + 1] = test.accuracy;
    losses[k + 2] = validation.mean_loss, losses[k + 3] = validation.accuracy;
}

static double max_relative_difference(const float *a, const float *b, size_t n)
{
    double worst = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / (1.0 + fabs((double)b[i]));
        if (d > worst) worst = d;
    }
    return worst;
}

/* The results compared: step losses, then test and validation loss and accuracy. */
enum { N_EVAL = 4 };

static void check_case(int64_t total, int64_t held_out, int batch, NnActivation act, NnLoss loss,
                       int reproducible, int regularize)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    NnConfig cfg = test_config(batch, act, loss, reproducible, regularize);
    const int epochs = 2;
    int64_t steps = epochs * nn_sampler_steps(total - held_out, batch);
    double *losses = calloc((size_t)steps + N_EVAL, sizeof(double));
    double *ref_losses = calloc((size_t)steps + N_EVAL, sizeof(double));
    NnTrainer dist;
    train(&dist, MPI_COMM_WORLD, &cfg, total, held_out, epochs, losses);

    /* Every rank holds the same weights after every step. */
    float *root = malloc(sizeof(float) * dist.model.n_params);
    memcpy(root, dist.model.params, sizeof(float) * dist.model.n_params);
    MPI_Bcast(root, (int)dist.model.n_params, MPI_FLOAT, 0, MPI_COMM_WORLD);
    CHECK(memcmp(root, dist.model.params, sizeof(float) * dist.model.n_params) == 0);

    if (rank == 0) {
        NnTrainer ref;
        train(&ref, MPI_COMM_SELF, &cfg, total, held_out, epochs, ref_losses);
        double dw = max_relative_difference(dist.model.params, ref.model.params,
                                            ref.model.n_params);
        double dv = max_relative_difference(dist.sgd.velocity, ref.sgd.velocity,
                                            ref.model.n_params);
        double dl = 0.0;
        for (int64_t k = 0; k < steps + (held_out ? N_EVAL : 2); k++)
            dl = fmax(dl, fabs(losses[k] - ref_losses[k]) / (1.0 + fabs(ref_losses[k])));
        printf("np %d, %s mode, %lld rows (%lld held out), batch %d, %s/%s%s: after %lld steps "
               "max relative difference weights %.1e velocity %.1e losses and accuracy %.1e\n",
               size, reproducible ? "reproducible" : "plain", (long long)total,
               (long long)held_out, batch, nn_activation_name(act), nn_loss_name(loss),
               regularize ? " with dropout, max-norm" : "", (long long)steps, dw, dv, dl);
        CHECK(dw < 1e-5 && dv < 1e-5 && dl < 1e-5);
        if (size == 1 || reproducible) { /* the same arithmetic: bit for bit */
            CHECK(memcmp(dist.model.params, ref.model.params,
                         sizeof(float) * ref.model.n_params) == 0);
            CHECK(memcmp(dist.sgd.velocity, ref.sgd.velocity,
                         sizeof(float) * ref.model.n_params) == 0);
            CHECK(memcmp(losses, ref_losses, sizeof(double) * (size_t)(steps + N_EVAL)) == 0);
        }
        nn_trainer_free(&ref);
    }
    nn_trainer_free(&dist);
    free(root);
    free(losses);
    free(ref_losses);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    for (int reproducible = 0; reproducible <= 1; reproducible++) {
        /* 10 = 4+3+3 at np 3 (chunks of 3: 3+3+3+1) */
        check_case(25, 0, 10, NN_ACT_SIGMOID, NN_LOSS_CROSS_ENTROPY, reproducible, 0);
        /* last batch 4 */
        check_case(25, 0, 7, NN_ACT_RELU, NN_LOSS_CROSS_ENTROPY, reproducible, 0);
        check_case(9, 0, 2, NN_ACT_TANH, NN_LOSS_MSE, reproducible, 0); /* parts empty at np 3+ */
        check_case(40, 0, 40, NN_ACT_RELU, NN_LOSS_MSE, reproducible, 0); /* one full-batch step */
        /* 11 of 36 rows held out: 25 training rows, 11 validation rows in chunks of 3 */
        check_case(36, 11, 7, NN_ACT_RELU, NN_LOSS_CROSS_ENTROPY, reproducible, 0);
        /* dropout, max-norm and label smoothing; dropout and max-norm with mse */
        check_case(36, 11, 7, NN_ACT_RELU, NN_LOSS_CROSS_ENTROPY, reproducible, 1);
        check_case(25, 0, 10, NN_ACT_TANH, NN_LOSS_MSE, reproducible, 1);
    }
    MPI_Allreduce(MPI_IN_PLACE, &nn_test_failures, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    int status = rank == 0 ? nn_test_finish("test_update") : (nn_test_failures != 0);
    MPI_Finalize();
    return status;
}
