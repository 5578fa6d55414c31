/* The validation split on real MNIST rows (run with -np 1, 2, 3, 4, 5; argument: the MNIST
 * file). nn_splits_read holds [data] validation rows out of the training split, chosen from
 * the seed alone; in reproducible mode the validation loss and accuracy after an epoch are
 * bitwise those of one process (a trainer on MPI_COMM_SELF), so the same at every rank
 * count, and each validation sample is evaluated exactly once. A dataset file with its own
 * /validation group (written here) supplies the split instead. Also the errors. */
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <unistd.h>

#include "nn_test.h"
#include "nn_test_data.h"
#include "nnmpi/nn_h5.h"
#include "nnmpi/nn_sampler.h"
#include "nnmpi/nn_splits.h"
#include "nnmpi/nn_trainer.h"

enum { TRAIN = 3000, HELD_OUT = 500, TEST = 200 };

static NnConfig mnist_config(const char *path)
{
    NnConfig cfg;
    nn_config_defaults(&cfg);
    snprintf(cfg.data_path, sizeof cfg.data_path, "%s", path);
    cfg.train_samples = TRAIN;
    cfg.test_samples = TEST;
    cfg.validation = HELD_OUT;
    cfg.reproducible = 1;
    cfg.chunk_size = 8;
    cfg.batch_size = 64;
    cfg.hidden = (NnIntList){1, {32}};
    cfg.learning_rate = 0.1;
    cfg.seed = 5;
    return cfg;
}

/* One epoch on comm, then both evaluations: out = {validation loss, accuracy, test loss,
 * accuracy}; *evaluated = the validation sample count. Leaves the weights in t. */
static void train_and_evaluate(NnTrainer *t, MPI_Comm comm, const NnConfig *cfg, double out[4],
                               int64_t *evaluated)
{
    NnSplits splits;
    char err[NN_ERR_LEN] = "";
    CHECK(nn_splits_read(comm, cfg, nn_trainer_test_unit(cfg), &splits, err) == NN_OK);
    if (err[0]) fprintf(stderr, "%s\n", err);
    CHECK(nn_trainer_init(t, comm, cfg, &splits, err) == NN_OK);
    CHECK(t->n_train == TRAIN - HELD_OUT);
    CHECK(t->steps_per_epoch == nn_sampler_steps(TRAIN - HELD_OUT, cfg->batch_size));
    nn_trainer_begin_epoch(t, 0);
    int64_t samples = 0;
    for (int64_t s = 0; s < t->steps_per_epoch; s++) {
        NnStepResult r = nn_trainer_step(t, s, (float)cfg->learning_rate, 0);
        CHECK(r.rejected == 0);
        samples += r.samples;
    }
    CHECK(samples == TRAIN - HELD_OUT); /* an epoch is the rows left for training */
    NnEvalResult v = nn_trainer_evaluate(t, NN_SPLIT_VALIDATION);
    NnEvalResult test = nn_trainer_evaluate(t, NN_SPLIT_TEST);
    CHECK(test.samples == TEST);
    *evaluated = v.samples;
    out[0] = v.mean_loss, out[1] = v.accuracy, out[2] = test.mean_loss, out[3] = test.accuracy;
}

static void test_held_out(const char *path)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    NnConfig cfg = mnist_config(path);
    char err[NN_ERR_LEN];

    /* The split holds the rows the seed selects, in chunk-aligned parts. */
    NnSplits splits;
    NnSamples all;
    CHECK(nn_splits_read(MPI_COMM_WORLD, &cfg, nn_trainer_test_unit(&cfg), &splits, err) ==
          NN_OK);
    CHECK(nn_dataset_read(MPI_COMM_SELF, path, "train", TRAIN, 1, &all, err) == NN_OK);
    int32_t *val = malloc(sizeof(int32_t) * HELD_OUT);
    int32_t *rest = malloc(sizeof(int32_t) * (TRAIN - HELD_OUT));
    nn_sampler_validation_split(cfg.seed, TRAIN, HELD_OUT, val, rest);
    const NnSamples *v = &splits.validation;
    CHECK(!splits.validation_in_file && splits.n_train_rows == TRAIN - HELD_OUT);
    CHECK(splits.train_rows &&
          memcmp(splits.train_rows, rest, sizeof(int32_t) * (TRAIN - HELD_OUT)) == 0);
    CHECK(v->total == HELD_OUT && (v->count == 0 || v->start % cfg.chunk_size == 0));
    int64_t rec = nn_samples_record_size(&all), same = 1;
    for (int64_t i = 0; i < v->count; i++)
        same &= memcmp(v->records + i * rec, all.records + val[v->start + i] * rec,
                       (size_t)rec) == 0;
    CHECK(same);
    nn_samples_free(&all);
    nn_splits_free(&splits);
    free(val), free(rest);

    /* Bitwise the results of one process, and each validation sample evaluated once. */
    NnTrainer t;
    double results[4], ref_results[4];
    int64_t evaluated = 0, ref_evaluated = 0;
    train_and_evaluate(&t, MPI_COMM_WORLD, &cfg, results, &evaluated);
    CHECK(evaluated == HELD_OUT);
    if (rank == 0) {
        NnTrainer ref;
        train_and_evaluate(&ref, MPI_COMM_SELF, &cfg, ref_results, &ref_evaluated);
        printf("np %d: validation loss %.17g accuracy %.17g (np 1: %.17g, %.17g), test loss "
               "%.17g\n",
               size, results[0], results[1], ref_results[0], ref_results[1], results[2]);
        CHECK(isfinite(results[0]) && results[1] > 0.5); /* it learned something */
        CHECK(memcmp(results, ref_results, sizeof results) == 0);
        CHECK(memcmp(t.model.params, ref.model.params, sizeof(float) * t.model.n_params) == 0);
        nn_trainer_free(&ref);
    }
    nn_trainer_free(&t);

    /* Without held-out rows the same run trains on all rows: another trajectory. */
    cfg.validation = 0;
    CHECK(nn_splits_read(MPI_COMM_WORLD, &cfg, nn_trainer_test_unit(&cfg), &splits, err) ==
          NN_OK);
    CHECK(splits.n_train_rows == TRAIN && !splits.train_rows && splits.validation.total == 0);
    CHECK(nn_trainer_init(&t, MPI_COMM_WORLD, &cfg, &splits, err) == NN_OK);
    NnEvalResult none = nn_trainer_evaluate(&t, NN_SPLIT_VALIDATION);
    CHECK(none.samples == 0 && isnan(none.mean_loss) && isnan(none.accuracy));
    nn_trainer_free(&t);

    /* V >= N is an error that names the key and N. */
    cfg.validation = TRAIN;
    CHECK(nn_splits_read(MPI_COMM_WORLD, &cfg, nn_trainer_test_unit(&cfg), &splits, err) ==
          NN_ERR);
    CHECK_CONTAINS(err, "[data] validation = 3000: must be less than the 3000 training rows");
    CHECK_CONTAINS(err, path);
    CHECK(splits.train.records == NULL && splits.train_rows == NULL);
}

/* Writes a uint8 dataset of shape dims (rank 1 or 2) under loc. */
static void write_u8(hid_t loc, const char *name, int rank, const hsize_t *dims,
                     const uint8_t *data)
{
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dset = H5Dcreate2(loc, name, H5T_STD_U8LE, space, H5P_DEFAULT, H5P_DEFAULT,
                            H5P_DEFAULT);
    CHECK(space >= 0 && dset >= 0);
    CHECK(H5Dwrite(dset, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(dset);
    H5Sclose(space);
}

enum { F = 12, FILE_TRAIN = 40, FILE_TEST = 10, FILE_VALIDATION = 13 };

/* Rank 0 writes a small dataset with its own /validation group: synthetic rows of data seed
 * 21 (train), 22 (test) and 23 (validation). */
static void write_file_with_validation(const char *path)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) {
        hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        CHECK(file >= 0);
        const char *splits[3] = {"train", "test", "validation"};
        const int64_t rows[3] = {FILE_TRAIN, FILE_TEST, FILE_VALIDATION};
        for (int s = 0; s < 3; s++) {
            uint8_t images[FILE_TRAIN * F], labels[FILE_TRAIN], record[F + 1];
            for (int64_t i = 0; i < rows[s]; i++) {
                nn_test_row(21 + (uint64_t)s, i, F, 10, record);
                memcpy(images + i * F, record, F);
                labels[i] = record[F];
            }
            hid_t g = H5Gcreate2(file, splits[s], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            hsize_t dims[2] = {(hsize_t)rows[s], F};
            write_u8(g, "images", 2, dims, images);
            write_u8(g, "labels", 1, dims, labels);
            H5Gclose(g);
        }
        H5Fclose(file);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

static void test_file_validation(void)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    char path[256], err[NN_ERR_LEN] = "";
    long pid = (long)getpid();
    MPI_Bcast(&pid, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    snprintf(path, sizeof path, "/tmp/nn_test_validation_%ld.h5", pid);
    write_file_with_validation(path);

    NnConfig cfg;
    nn_config_defaults(&cfg);
    snprintf(cfg.data_path, sizeof cfg.data_path, "%s", path);
    cfg.reproducible = 1;
    cfg.chunk_size = 3;
    cfg.batch_size = 8;
    cfg.hidden = (NnIntList){1, {5}};
    NnSplits splits;
    CHECK(nn_splits_read(MPI_COMM_WORLD, &cfg, nn_trainer_test_unit(&cfg), &splits, err) ==
          NN_OK);
    if (err[0]) fprintf(stderr, "%s\n", err);
    CHECK(splits.validation_in_file && splits.n_train_rows == FILE_TRAIN && !splits.train_rows);
    const NnSamples *v = &splits.validation;
    int64_t start, count;
    nn_shard_range_units(FILE_VALIDATION, 3, size, rank, &start, &count);
    CHECK(v->total == FILE_VALIDATION && v->start == start && v->count == count);
    uint8_t expected[F + 1];
    int same = 1;
    for (int64_t i = 0; i < v->count; i++) {
        nn_test_row(23, v->start + i, F, 10, expected); /* the group's rows, not train's */
        same &= memcmp(v->records + i * (F + 1), expected, F + 1) == 0;
    }
    CHECK(same);
    NnTrainer t;
    CHECK(nn_trainer_init(&t, MPI_COMM_WORLD, &cfg, &splits, err) == NN_OK);
    CHECK(t.steps_per_epoch == nn_sampler_steps(FILE_TRAIN, cfg.batch_size));
    NnEvalResult r = nn_trainer_evaluate(&t, NN_SPLIT_VALIDATION);
    CHECK(r.samples == FILE_VALIDATION && isfinite(r.mean_loss));
    nn_trainer_free(&t);

    /* Then [data] validation must be 0: the error names the file and the key. */
    cfg.validation = 5;
    CHECK(nn_splits_read(MPI_COMM_WORLD, &cfg, nn_trainer_test_unit(&cfg), &splits, err) ==
          NN_ERR);
    CHECK_CONTAINS(err, path);
    CHECK_CONTAINS(err, "has its own /validation split, so [data] validation must be 0");
    if (rank == 0) unlink(path);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    nn_h5_silence();
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int have_data = argc > 1 && access(argv[1], R_OK) == 0;
    MPI_Bcast(&have_data, 1, MPI_INT, 0, MPI_COMM_WORLD);
    test_file_validation();
    if (have_data)
        test_held_out(argv[1]);
    MPI_Allreduce(MPI_IN_PLACE, &nn_test_failures, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    int status = rank == 0 ? nn_test_finish("test_validation") : (nn_test_failures != 0);
    if (!have_data && status == 0) {
        if (rank == 0)
            printf("test_validation: skipped the MNIST part: %s is not readable "
                   "(scripts/get-mnist.sh)\n",
                   argc > 1 ? argv[1] : "(no file given)");
        status = 77; /* CTest's skip code (SKIP_RETURN_CODE) */
    }
    MPI_Finalize();
    return status;
}
