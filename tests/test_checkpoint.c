/* Checkpoint files: a bitwise round trip of weights, optimizer state and position; the
 * architecture check; damaged and missing files; no temporary file left behind. */
#include <dirent.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn_test.h"
#include "nnmpi/nn_checkpoint.h"
#include "nnmpi/nn_h5.h"
#include "nnmpi/nn_rng.h"

static void make_model(NnModel *m, NnSgd *opt, int hidden_units, uint64_t seed)
{
    NnIntList hidden = {2, {hidden_units, 5}};
    char err[NN_ERR_LEN];
    CHECK(nn_model_init(m, 20, &hidden, 10, NN_ACT_TANH, NN_LOSS_MSE, 4, err) == NN_OK);
    CHECK(nn_sgd_init(opt, m, 0.9, 1e-4, err) == NN_OK);
    NnRng rng;
    nn_rng_seed(&rng, seed, 1, 2);
    for (size_t i = 0; i < m->n_params; i++) {
        m->params[i] = nn_rng_symmetric(&rng, 3.0f);
        opt->velocity[i] = nn_rng_symmetric(&rng, 1e-3f);
    }
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}

int main(void)
{
    nn_h5_silence();
    char dir[] = "/tmp/nn_test_ckpt_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[512], err[NN_ERR_LEN] = "";
    snprintf(path, sizeof path, "%s/ckpt.h5", dir);

    NnModel m, back;
    NnSgd opt, back_opt;
    make_model(&m, &opt, 8, 1);
    make_model(&back, &back_opt, 8, 2); /* different contents, same shapes */
    NnTrainState state = {.epochs_done = 3, .step_in_epoch = 17, .global_step = 1234,
                          .samples_seen = 78976, .seed = 42, .batch_size = 64,
                          .train_samples = 60000, .nranks = 4, .train_loss = 0.25,
                          .test_loss = NAN, .test_accuracy = 0.9876};
    const char *config = "[train]\nepochs = 5\n";
    CHECK(nn_checkpoint_write(path, &m, &opt, &state, config, err) == NN_OK);
    CHECK(count_entries(dir) == 1); /* the temporary file was renamed, not left */

    NnTrainState got;
    memset(&got, 0, sizeof got);
    CHECK(nn_checkpoint_read(path, &back, &back_opt, &got, err) == NN_OK);
    CHECK(memcmp(m.params, back.params, sizeof(float) * m.n_params) == 0);
    CHECK(memcmp(opt.velocity, back_opt.velocity, sizeof(float) * m.n_params) == 0);
    CHECK(got.epochs_done == 3 && got.step_in_epoch == 17 && got.global_step == 1234);
    CHECK(got.samples_seen == 78976 && got.seed == 42 && got.batch_size == 64);
    CHECK(got.train_samples == 60000 && got.nranks == 4 && got.train_loss == 0.25);
    CHECK(isnan(got.test_loss) && got.test_accuracy == 0.9876);

    /* Overwriting keeps one whole file. */
    state.global_step = 2000;
    CHECK(nn_checkpoint_write(path, &m, &opt, &state, config, err) == NN_OK);
    CHECK(nn_checkpoint_read(path, &back, &back_opt, &got, err) == NN_OK);
    CHECK(got.global_step == 2000 && count_entries(dir) == 1);

    /* A different architecture is refused, naming both. */
    NnModel wide;
    NnSgd wide_opt;
    make_model(&wide, &wide_opt, 9, 3);
    CHECK(nn_checkpoint_read(path, &wide, &wide_opt, &got, err) == NN_ERR);
    CHECK_CONTAINS(err, "checkpoint has layers 20-8-5-10 but the config and data give 20-9-5-10");

    /* Missing, not HDF5, truncated. */
    CHECK(nn_checkpoint_read("/nonexistent/ckpt.h5", &back, &back_opt, &got, err) == NN_ERR);
    CHECK_CONTAINS(err, "/nonexistent/ckpt.h5: cannot open checkpoint");
    char bad[600];
    snprintf(bad, sizeof bad, "%s/bad.h5", dir);
    FILE *f = fopen(bad, "w");
    fputs("not hdf5\n", f);
    fclose(f);
    CHECK(nn_checkpoint_read(bad, &back, &back_opt, &got, err) == NN_ERR);
    CHECK_CONTAINS(err, "bad.h5: not an HDF5 file, or damaged");
    struct stat st;
    CHECK(stat(path, &st) == 0);
    CHECK(truncate(path, st.st_size / 2) == 0);
    CHECK(nn_checkpoint_read(path, &back, &back_opt, &got, err) == NN_ERR);
    CHECK_CONTAINS(err, "ckpt.h5");

    /* A directory that does not exist: an error, and nothing written. */
    snprintf(bad, sizeof bad, "%s/missing/ckpt.h5", dir);
    CHECK(nn_checkpoint_write(bad, &m, &opt, &state, config, err) == NN_ERR);
    CHECK_CONTAINS(err, "cannot create checkpoint file");

    unlink(path);
    snprintf(bad, sizeof bad, "%s/bad.h5", dir);
    unlink(bad);
    rmdir(dir);
    nn_model_free(&m), nn_model_free(&back), nn_model_free(&wide);
    nn_sgd_free(&opt), nn_sgd_free(&back_opt), nn_sgd_free(&wide_opt);
    return nn_test_finish("test_checkpoint");
}
