/* Nothing is allocated in the training loop: after a first epoch, further epochs (the
 * sample exchange, every step, evaluation of the test and validation splits) call no
 * malloc, calloc, realloc or free of nn-mpi's own, in plain and reproducible mode, with and
 * without a validation split held out, with uint8 and with float32 features (and mean and
 * std to apply), with dropout, max-norm and label smoothing, and with augmentation,
 * gradient clipping and warm-up, with SGD, Adam and AdamW (run with several rank counts).
 * The program is linked with --wrap for those functions (tests/CMakeLists.txt), which
 * counts the calls made by nn-mpi's code; MPI's and BLAS's own allocations are not ours to
 * count. */
#include <mpi.h>
#include <stdlib.h>

#include "nn_test.h"
#include "nn_test_data.h"
#include "nnmpi/nn_trainer.h"

static long calls; /* allocator calls from nn-mpi's code and this test */

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void __real_free(void *p);

void *__wrap_malloc(size_t n)
{
    calls++;
    return __real_malloc(n);
}

void *__wrap_calloc(size_t n, size_t size)
{
    calls++;
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t n)
{
    calls++;
    return __real_realloc(p, n);
}

void __wrap_free(void *p)
{
    if (p) calls++;
    __real_free(p);
}

/* One epoch of steps and an evaluation. */
static void epoch(NnTrainer *t, const NnConfig *cfg, int64_t e)
{
    nn_trainer_begin_epoch(t, e);
    for (int64_t s = 0; s < t->steps_per_epoch; s++) {
        float lr = (float)nn_lr_at(cfg, e, s, t->steps_per_epoch);
        NnStepResult r = nn_trainer_step(t, s, lr, 0);
        CHECK(r.rejected == 0);
    }
    NnEvalResult test = nn_trainer_evaluate(t, NN_SPLIT_TEST);
    NnEvalResult validation = nn_trainer_evaluate(t, NN_SPLIT_VALIDATION);
    CHECK(test.samples == t->test.total && validation.samples == t->validation.total);
}

/* What check_mode turns on besides the defaults. */
enum {
    REGULARIZE = 1, /* dropout, max-norm, label smoothing */
    STABILIZE = 2   /* augmentation, gradient clipping (low enough to clip), warm-up */
};

static void check_mode(int reproducible, int64_t held_out, int float_features, int extras,
                       NnOptimizer optimizer)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    NnConfig cfg;
    nn_config_defaults(&cfg);
    cfg.reproducible = reproducible;
    cfg.chunk_size = 3;
    cfg.hidden = (NnIntList){2, {9, 7}};
    cfg.batch_size = 10;
    cfg.optimizer = optimizer;
    if (extras & REGULARIZE) {
        cfg.dropout = (NnRealList){2, {0.5, 0.25}};
        cfg.max_norm = 0.5;
        cfg.label_smoothing = 0.1;
    }
    if (extras & STABILIZE) {
        cfg.augment = 1;
        cfg.clip_grad_norm = 0.01;
        cfg.warmup_steps = 15;
    }
    NnSplits splits = nn_test_splits(cfg.seed, 103, held_out, 17, 16, 4, /* 4 x 4 images */
                                     nn_trainer_test_unit(&cfg), rank, size);
    if (float_features) { /* float32 records with mean and std to apply */
        nn_test_to_float(&splits.train, 1);
        nn_test_to_float(&splits.test, 1);
        nn_test_to_float(&splits.validation, 1);
    }
    NnTrainer t;
    char err[NN_ERR_LEN];
    CHECK(nn_trainer_init(&t, MPI_COMM_WORLD, &cfg, &splits, err) == NN_OK);
    epoch(&t, &cfg, 0);
    long before = calls;
    for (int64_t e = 1; e < 4; e++) epoch(&t, &cfg, e);
    long during = calls - before;
    if (during != 0)
        fprintf(stderr, "rank %d, reproducible = %d, validation %lld, float features %d, "
                        "extras %d, %s: %ld allocator calls in 3 epochs\n",
                rank, reproducible, (long long)held_out, float_features, extras,
                nn_enum_name(nn_optimizer_names, optimizer), during);
    CHECK(during == 0);
    nn_trainer_free(&t);
    CHECK(calls > before); /* the counting works: freeing the trainer was counted */
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    for (int reproducible = 0; reproducible <= 1; reproducible++) {
        check_mode(reproducible, 0, 0, 0, NN_OPTIM_SGD);
        check_mode(reproducible, 20, 0, 0, NN_OPTIM_SGD);
        check_mode(reproducible, 20, 1, 0, NN_OPTIM_SGD);
        check_mode(reproducible, 20, 0, REGULARIZE, NN_OPTIM_SGD);
        check_mode(reproducible, 20, 0, STABILIZE, NN_OPTIM_SGD);
        check_mode(reproducible, 20, 1, REGULARIZE | STABILIZE, NN_OPTIM_SGD);
        check_mode(reproducible, 0, 0, 0, NN_OPTIM_ADAM);
        check_mode(reproducible, 20, 1, REGULARIZE | STABILIZE, NN_OPTIM_ADAMW);
    }
    MPI_Allreduce(MPI_IN_PLACE, &nn_test_failures, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    int status = rank == 0 ? nn_test_finish("test_no_alloc") : (nn_test_failures != 0);
    MPI_Finalize();
    return status;
}
