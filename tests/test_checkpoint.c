/* Checkpoint files: a bitwise round trip of weights, optimizer state (SGD's velocity, Adam's
 * and AdamW's moments and step count) and position; damage detection (bit flips in arrays
 * and attributes, truncation, wrong format version, attributes out of range); a full disk
 * (test fault); the stored preprocessing; the older formats' fixtures (in NN_TEST_DATA_DIR,
 * tests/data); listing, pruning and temporary-file clean-up of a checkpoint
 * directory. */
#include <dirent.h>
#include <fcntl.h>
#include <hdf5.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nn_test.h"
#include "nnmpi/nn_checkpoint.h"
#include "nnmpi/nn_fault.h"
#include "nnmpi/nn_h5.h"
#include "nnmpi/nn_resume.h"
#include "nnmpi/nn_rng.h"

static const char *CONFIG = "[train]\nepochs = 5\n";
static const char *FIXED = "[model] hidden = 8, 5\ntraining samples = 100\n";

/* A model and an optimizer of this type in storage s, with random weights and state (and
 * Adam's step count 1234). */
static void make_optimized(NnModel *m, NnOptim *opt, NnModelStorage *s, NnOptimizer type,
                           uint64_t seed)
{
    NnIntList hidden = {2, {8, 5}};
    char err[NN_ERR_LEN];
    CHECK(nn_model_init(m, 20, &hidden, 10, NN_ACT_TANH, NN_LOSS_MSE, 4, err) == NN_OK);
    size_t n = m->n_params, k = nn_optim_state_floats(type, n);
    CHECK(nn_model_storage_init(s, m, k, err) == NN_OK);
    NnConfig cfg;
    nn_config_defaults(&cfg);
    cfg.optimizer = type;
    cfg.momentum = 0.9;
    cfg.weight_decay = 1e-4;
    cfg.beta2 = 0.99;
    *opt = nn_optim_from_config(&cfg, n);
    nn_optim_bind(opt, s->optim_state);
    if (type != NN_OPTIM_SGD) opt->step = 1234;
    NnRng rng;
    nn_rng_seed(&rng, seed, 1, 2);
    for (size_t i = 0; i < n; i++) m->params[i] = nn_rng_symmetric(&rng, 3.0f);
    for (size_t i = 0; i < k; i++) opt->state[i] = nn_rng_symmetric(&rng, 1e-3f);
}

/* The same with SGD. */
static void make_model(NnModel *m, NnOptim *opt, NnModelStorage *s, uint64_t seed)
{
    make_optimized(m, opt, s, NN_OPTIM_SGD, seed);
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    for (struct dirent *e; d && (e = readdir(d));) n += e->d_name[0] != '.';
    if (d) closedir(d);
    return n;
}

static void copy_file(const char *from, const char *to)
{
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    char buf[65536];
    for (size_t n; (n = fread(buf, 1, sizeof buf, in)) > 0;) fwrite(buf, 1, n, out);
    fclose(in);
    fclose(out);
}

/* Flips one bit at byte `offset` of the file. */
static void flip_bit(const char *path, long offset)
{
    int fd = open(path, O_RDWR);
    unsigned char byte;
    CHECK(pread(fd, &byte, 1, offset) == 1);
    byte ^= 0x10;
    CHECK(pwrite(fd, &byte, 1, offset) == 1);
    close(fd);
}

/* Flips a bit of the first value of float dataset name in the open file f. */
static void flip_bit_open(hid_t f, const char *name)
{
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    float v[20];
    CHECK(d >= 0 && H5Dread(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    uint32_t bits;
    memcpy(&bits, &v[0], 4);
    bits ^= 1u;
    memcpy(&v[0], &bits, 4);
    CHECK(H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0);
    H5Dclose(d);
}

/* The file offset of a contiguous dataset's data. */
static long data_offset(const char *path, const char *name)
{
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    hid_t d = H5Dopen2(f, name, H5P_DEFAULT);
    haddr_t at = H5Dget_offset(d);
    H5Dclose(d);
    H5Fclose(f);
    return (long)at;
}

static void test_round_trip(const char *dir)
{
    char path[512], err[NN_ERR_LEN] = "";
    snprintf(path, sizeof path, "%s/ckpt.h5", dir);
    NnModel m;
    NnOptim opt;
    NnModelStorage storage;
    make_model(&m, &opt, &storage, 1);
    NnTrainState state = {.epochs_done = 3, .step_in_epoch = 17, .global_step = 1234,
                          .samples_seen = 78976, .seed = 42, .batch_size = 64,
                          .train_samples = 60000, .nranks = 4, .epoch_loss_sum = 12.5,
                          .epoch_samples = 1088, .log_loss_sum = 1.25, .log_samples = 128,
                          .train_loss = 0.25, .test_loss = NAN, .test_accuracy = 0.9876,
                          .validation_loss = 0.5, .validation_accuracy = NAN, .best_value = 0.5,
                          .best_epoch = 3, .best_step = 1200, .stale_epochs = 1,
                          .stopped_early = 1, .run_id = "20261129-101608-3fa2c1"};
    CHECK(nn_checkpoint_write(path, &m, &opt, NULL, &state, CONFIG, FIXED, err) == NN_OK);
    CHECK(count_entries(dir) == 1); /* the temporary file was renamed, not left */

    NnCheckpoint ck;
    CHECK(nn_checkpoint_load(path, &ck, err) == NN_OK);
    CHECK(ck.model.n_params == m.n_params && ck.model.n_layers == 3);
    CHECK(ck.model.inputs == 20 && ck.model.layers[0].out == 8 && ck.model.outputs == 10);
    CHECK(ck.model.activation == NN_ACT_TANH && ck.model.loss == NN_LOSS_MSE);
    CHECK(memcmp(m.params, ck.model.params, sizeof(float) * m.n_params) == 0);
    CHECK(memcmp(opt.velocity, ck.optim.velocity, sizeof(float) * m.n_params) == 0);
    CHECK(ck.optim.momentum == opt.momentum && ck.optim.weight_decay == opt.weight_decay);
    const NnTrainState *s = &ck.state;
    CHECK(s->epochs_done == 3 && s->step_in_epoch == 17 && s->global_step == 1234);
    CHECK(s->samples_seen == 78976 && s->seed == 42 && s->batch_size == 64);
    CHECK(s->train_samples == 60000 && s->nranks == 4 && s->train_loss == 0.25);
    CHECK(s->epoch_loss_sum == 12.5 && s->epoch_samples == 1088);
    CHECK(s->log_loss_sum == 1.25 && s->log_samples == 128);
    CHECK(isnan(s->test_loss) && s->test_accuracy == 0.9876);
    CHECK(s->validation_loss == 0.5 && isnan(s->validation_accuracy) && s->best_value == 0.5);
    CHECK(s->best_epoch == 3 && s->best_step == 1200 && s->stale_epochs == 1);
    CHECK(s->stopped_early == 1 && strcmp(s->run_id, "20261129-101608-3fa2c1") == 0);
    CHECK(ck.format_version == NN_CHECKPOINT_FORMAT_VERSION);
    CHECK(strcmp(ck.config_text, CONFIG) == 0 && strcmp(ck.fixed_settings, FIXED) == 0);
    CHECK(strcmp(ck.nn_mpi_version, NN_VERSION) == 0);
    nn_checkpoint_free(&ck);

    /* Damage is detected: a bit flipped in the weights, in the optimizer state, in a
     * position attribute; a truncated file; another format version. */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/bad.h5", dir);
    const char *arrays[] = {"/model/layer_1/weights", "/optimizer/layer_2/biases_velocity"};
    for (int i = 0; i < 2; i++) {
        copy_file(path, bad);
        flip_bit(bad, data_offset(bad, arrays[i]) + 5);
        CHECK(nn_checkpoint_load(bad, &ck, err) == NN_ERR);
        CHECK_CONTAINS(err, "checksum mismatch");
        CHECK_CONTAINS(err, "the file is damaged");
    }
    copy_file(path, bad);
    hid_t f = H5Fopen(bad, H5F_ACC_RDWR, H5P_DEFAULT), g = H5Gopen2(f, "train", H5P_DEFAULT);
    nn_h5_attr_write_i64(g, "global_step", 1235, err);
    H5Gclose(g);
    H5Fclose(f);
    CHECK(nn_checkpoint_load(bad, &ck, err) == NN_ERR);
    CHECK_CONTAINS(err, "checksum mismatch");
    copy_file(path, bad);
    f = H5Fopen(bad, H5F_ACC_RDWR, H5P_DEFAULT);
    nn_h5_attr_write_i64(f, "format_version", 1, err);
    H5Fclose(f);
    CHECK(nn_checkpoint_load(bad, &ck, err) == NN_ERR);
    CHECK_CONTAINS(err, "checkpoint format version 1, this nn-mpi reads versions 2 to 4");
    /* The run id is covered by the checksum. */
    copy_file(path, bad);
    f = H5Fopen(bad, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Adelete(f, "run_id");
    nn_h5_attr_write_text(f, "run_id", "20261129-101608-3fa2c2", err);
    H5Fclose(f);
    CHECK(nn_checkpoint_load(bad, &ck, err) == NN_ERR);
    CHECK_CONTAINS(err, "checksum mismatch");

    /* Crafted architectures are refused before anything is allocated from them: layer sizes
     * that disagree with the fixed settings (even with a valid checksum), and layer sizes
     * that claim arrays the file does not have. */
    CHECK(nn_checkpoint_write(bad, &m, &opt, NULL, &state, CONFIG, "[model] hidden = 8, 6\n", err) ==
          NN_OK);
    CHECK(nn_checkpoint_load(bad, &ck, err) == NN_ERR);
    CHECK_CONTAINS(err, "bad.h5: /model layer_sizes disagree with the fixed settings");
    copy_file(path, bad);
    f = H5Fopen(bad, H5F_ACC_RDWR, H5P_DEFAULT);
    g = H5Gopen2(f, "model", H5P_DEFAULT);
    int64_t huge[] = {20, 8192, 8192, 10};
    H5Adelete(g, "layer_sizes");
    nn_h5_attr_write_i64s(g, "layer_sizes", huge, 4, err);
    H5Gclose(g);
    H5Adelete(f, "fixed_settings");
    nn_h5_attr_write_text(f, "fixed_settings", "[model] hidden = 8192, 8192\n", err);
    H5Fclose(f);
    CHECK(nn_checkpoint_load(bad, &ck, err) == NN_ERR);
    CHECK_CONTAINS(err, "bad.h5: layer_0/weights is missing, has another shape than layer_sizes say");
    struct stat st;
    CHECK(stat(path, &st) == 0);
    copy_file(path, bad);
    CHECK(truncate(bad, st.st_size / 2) == 0);
    CHECK(nn_checkpoint_load(bad, &ck, err) == NN_ERR);
    char expected[700]; /* HDF5 refuses to open a file shorter than its end of allocation */
    snprintf(expected, sizeof expected, "%s: not an HDF5 file, or damaged", bad);
    CHECK_STREQ(err, expected);
    FILE *text = fopen(bad, "w");
    fputs("not hdf5\n", text);
    fclose(text);
    CHECK(nn_checkpoint_load(bad, &ck, err) == NN_ERR);
    CHECK_CONTAINS(err, "bad.h5: not an HDF5 file, or damaged");
    CHECK(nn_checkpoint_load(dir, &ck, err) == NN_ERR); /* only regular files */
    CHECK_CONTAINS(err, ": cannot open checkpoint: not a regular file");
    CHECK(nn_checkpoint_load("/nonexistent/ckpt.h5", &ck, err) == NN_ERR);
    CHECK(strcmp(err, "/nonexistent/ckpt.h5: cannot open checkpoint: No such file or directory") ==
          0);

    /* A directory that does not exist: an error, and nothing written. */
    snprintf(bad, sizeof bad, "%s/missing/ckpt.h5", dir);
    CHECK(nn_checkpoint_write(bad, &m, &opt, NULL, &state, CONFIG, FIXED, err) == NN_ERR);
    CHECK_CONTAINS(err, "missing/ckpt.h5.tmp.");
    CHECK_CONTAINS(err, ": cannot create: No such file or directory");
    CHECK(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0);
    snprintf(bad, sizeof bad, "%s/bad.h5", dir);
    unlink(bad);
    unlink(path);
    nn_model_free(&m);
    nn_model_storage_free(&storage);
}

/* A full disk (the test fault write_enospc@2): the first checkpoint is written, the second
 * and third fail naming the temporary file and the errno text, leave no file behind and
 * no HDF5 id open, and the first stays valid. */
static void test_full_disk(const char *dir)
{
    char err[NN_ERR_LEN] = "", path[512], expect[600];
    NnModel m;
    NnOptim opt;
    NnModelStorage storage;
    make_model(&m, &opt, &storage, 2);
    NnTrainState state = {.global_step = 20, .batch_size = 8, .train_samples = 100,
                          .nranks = 1, .train_loss = NAN, .test_loss = NAN,
                          .test_accuracy = NAN};
    CHECK(nn_fault_configure("write_enospc@2", err) == NN_OK);
    nn_checkpoint_path(dir, 20, path, sizeof path);
    CHECK(nn_checkpoint_write(path, &m, &opt, NULL, &state, CONFIG, FIXED, err) == NN_OK);
    for (int64_t step = 40; step <= 60; step += 20) {
        state.global_step = step;
        nn_checkpoint_path(dir, step, path, sizeof path);
        CHECK(nn_checkpoint_write(path, &m, &opt, NULL, &state, CONFIG, FIXED, err) == NN_ERR);
        snprintf(expect, sizeof expect, "%s.tmp.%ld: cannot write: No space left on device", path,
                 (long)getpid());
        CHECK(strcmp(err, expect) == 0);
        CHECK(count_entries(dir) == 1);
        CHECK(H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL) == 0);
    }
    CHECK(nn_fault_configure(NULL, err) == NN_OK);
    NnCheckpoint ck;
    nn_checkpoint_path(dir, 20, path, sizeof path);
    CHECK(nn_checkpoint_load(path, &ck, err) == NN_OK);
    CHECK(ck.state.global_step == 20);
    nn_checkpoint_free(&ck);
    unlink(path);
    nn_model_free(&m);
    nn_model_storage_free(&storage);
}

/* /preprocessing: stored and read back bit for bit, covered by the checksum; a checkpoint
 * without it reads as uint8 features scaled by 1/255 (and its checksum still holds). */
static void test_preprocessing(const char *dir)
{
    char path[512], err[NN_ERR_LEN] = "";
    snprintf(path, sizeof path, "%s/prep.h5", dir);
    NnModel m;
    NnOptim opt;
    NnModelStorage storage;
    make_model(&m, &opt, &storage, 3);
    NnTrainState state = {.batch_size = 8, .train_samples = 100, .nranks = 1,
                          .train_loss = NAN, .test_loss = NAN, .test_accuracy = NAN};
    float mean[20], std[20];
    for (int j = 0; j < 20; j++) {
        mean[j] = 0.1f * (float)j - 0.5f;
        std[j] = j == 3 ? 0.0f : 1.0f + 0.01f * (float)j; /* 0 is stored as 1 */
    }
    NnPreprocess prep = {.type = NN_FEATURES_FLOAT32, .features = 20, .scale = 0.5f};
    CHECK(nn_preprocess_set(&prep, mean, std, "test", err) == NN_OK);
    CHECK(prep.std[3] == 1.0f);
    CHECK(nn_checkpoint_write(path, &m, &opt, &prep, &state, CONFIG, FIXED, err) == NN_OK);
    NnCheckpoint ck;
    CHECK(nn_checkpoint_load(path, &ck, err) == NN_OK);
    CHECK(ck.has_preprocessing && nn_preprocess_equal(&ck.prep, &prep));
    nn_checkpoint_free(&ck);

    /* A changed mean value, scale or feature type, or a deleted group, is damage. */
    char bad[600];
    snprintf(bad, sizeof bad, "%s/bad.h5", dir);
    for (int how = 0; how < 4; how++) {
        copy_file(path, bad);
        hid_t f = H5Fopen(bad, H5F_ACC_RDWR, H5P_DEFAULT);
        if (how == 0) {
            flip_bit_open(f, "/preprocessing/mean");
        } else if (how == 1) {
            hid_t g = H5Gopen2(f, "preprocessing", H5P_DEFAULT);
            nn_h5_attr_write_f64(g, "scale", 0.25, err);
            H5Gclose(g);
        } else if (how == 2) {
            hid_t g = H5Gopen2(f, "preprocessing", H5P_DEFAULT);
            H5Adelete(g, "feature_type");
            nn_h5_attr_write_text(g, "feature_type", "uint8", err);
            H5Gclose(g);
        } else {
            H5Ldelete(f, "/preprocessing", H5P_DEFAULT);
        }
        H5Fclose(f);
        CHECK(nn_checkpoint_load(bad, &ck, err) == NN_ERR);
        CHECK_CONTAINS(err, "checksum mismatch");
    }
    copy_file(path, bad);
    hid_t f = H5Fopen(bad, H5F_ACC_RDWR, H5P_DEFAULT);
    hid_t g = H5Gopen2(f, "preprocessing", H5P_DEFAULT);
    H5Adelete(g, "feature_type");
    nn_h5_attr_write_text(g, "feature_type", "int16", err);
    H5Gclose(g);
    H5Fclose(f);
    CHECK(nn_checkpoint_load(bad, &ck, err) == NN_ERR);
    CHECK_CONTAINS(err, "/preprocessing has feature_type 'int16'");

    /* No /preprocessing (as every checkpoint before format 2 data): the default. */
    CHECK(nn_checkpoint_write(path, &m, &opt, NULL, &state, CONFIG, FIXED, err) == NN_OK);
    CHECK(nn_checkpoint_load(path, &ck, err) == NN_OK);
    NnPreprocess def = nn_preprocess_default(20);
    CHECK(!ck.has_preprocessing && nn_preprocess_equal(&ck.prep, &def));
    CHECK(ck.prep.scale == 1.0f / 255.0f && !ck.prep.mean && !ck.prep.std);
    nn_checkpoint_free(&ck);
    nn_preprocess_free(&prep);
    unlink(path);
    unlink(bad);
    nn_model_free(&m);
    nn_model_storage_free(&storage);
}

/* Replaces the text attribute name of object obj (a path) in the file at path. */
static void set_text_attribute(const char *path, const char *obj, const char *name,
                               const char *value)
{
    char err[NN_ERR_LEN];
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT), o = H5Oopen(f, obj, H5P_DEFAULT);
    H5Adelete(o, name);
    CHECK(nn_h5_attr_write_text(o, name, value, err) == NN_OK);
    H5Oclose(o);
    H5Fclose(f);
}

/* Sets the float64 or int64 attribute name of /optimizer, or /'s format_version. */
static void set_number_attribute(const char *path, const char *obj, const char *name, double v,
                                 int integer)
{
    char err[NN_ERR_LEN];
    hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT), o = H5Oopen(f, obj, H5P_DEFAULT);
    CHECK((integer ? nn_h5_attr_write_i64(o, name, (int64_t)v, err)
                   : nn_h5_attr_write_f64(o, name, v, err)) == NN_OK);
    H5Oclose(o);
    H5Fclose(f);
}

/* Adam's and AdamW's moments, step count and settings round trip bit for bit (format 4);
 * damage to any of them is found, and a crafted file is refused before anything is
 * allocated from it. */
static void test_adam_state(const char *dir)
{
    char path[512], bad[600], err[NN_ERR_LEN] = "";
    snprintf(path, sizeof path, "%s/adam.h5", dir);
    snprintf(bad, sizeof bad, "%s/bad.h5", dir);
    NnTrainState state = {.global_step = 1234, .batch_size = 8, .train_samples = 100,
                          .nranks = 3, .train_loss = NAN, .test_loss = NAN,
                          .test_accuracy = NAN, .best_step = -1};
    const NnOptimizer types[] = {NN_OPTIM_ADAM, NN_OPTIM_ADAMW};
    for (int t = 0; t < 2; t++) {
        NnModel m;
        NnOptim opt;
        NnModelStorage storage;
        make_optimized(&m, &opt, &storage, types[t], 4 + (uint64_t)t);
        CHECK(opt.exp_avg == opt.state && opt.exp_avg_sq == opt.state + m.n_params);
        CHECK(nn_checkpoint_write(path, &m, &opt, NULL, &state, CONFIG, FIXED, err) == NN_OK);
        NnCheckpoint ck;
        CHECK(nn_checkpoint_load(path, &ck, err) == NN_OK);
        CHECK(ck.format_version == 4 && ck.optim.type == types[t]);
        CHECK(memcmp(m.params, ck.model.params, sizeof(float) * m.n_params) == 0);
        CHECK(memcmp(opt.exp_avg, ck.optim.exp_avg, sizeof(float) * m.n_params) == 0);
        CHECK(memcmp(opt.exp_avg_sq, ck.optim.exp_avg_sq, sizeof(float) * m.n_params) == 0);
        CHECK(ck.optim.step == 1234 && ck.optim.beta1 == 0.9 && ck.optim.beta2 == 0.99);
        CHECK(ck.optim.epsilon == 1e-8 && ck.optim.weight_decay == 1e-4f && !ck.optim.velocity);
        nn_checkpoint_free(&ck);
        nn_model_free(&m);
        nn_model_storage_free(&storage);
    }
    hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    for (int l = 0; l < 3; l++)
        for (int k = 0; k < 4; k++) {
            char name[96];
            snprintf(name, sizeof name, "/optimizer/layer_%d/%s_%s", l,
                     k % 2 ? "biases" : "weights", k < 2 ? "exp_avg" : "exp_avg_sq");
            CHECK(nn_h5_exists(f, name));
        }
    CHECK(!nn_h5_exists(f, "/optimizer/layer_0/weights_velocity"));
    H5Fclose(f);

    /* A bit flipped in either moment, another step count, beta, epsilon or type: damage. */
    const char *arrays[] = {"/optimizer/layer_0/weights_exp_avg",
                            "/optimizer/layer_2/biases_exp_avg_sq"};
    NnCheckpoint ck;
    for (int i = 0; i < 2; i++) {
        copy_file(path, bad);
        flip_bit(bad, data_offset(bad, arrays[i]) + 2);
        CHECK(nn_checkpoint_load(bad, &ck, err) == NN_ERR);
        CHECK_CONTAINS(err, "checksum mismatch");
    }
    const char *numbers[] = {"step", "beta1", "beta2", "epsilon", "weight_decay"};
    for (int i = 0; i < 5; i++) {
        copy_file(path, bad);
        set_number_attribute(bad, "/optimizer", numbers[i], i == 0 ? 1235 : 0.5, i == 0);
        CHECK(nn_checkpoint_load(bad, &ck, err) == NN_ERR);
        CHECK_CONTAINS(err, "checksum mismatch");
    }
    copy_file(path, bad);
    set_text_attribute(bad, "/optimizer", "type", "adam"); /* written as adamw */
    CHECK(nn_checkpoint_load(bad, &ck, err) == NN_ERR);
    CHECK_CONTAINS(err, "checksum mismatch");
    /* Refused before anything is allocated: another optimizer's attributes missing, values out
     * of range, an unknown type, Adam in a format that had only SGD. */
    copy_file(path, bad);
    set_text_attribute(bad, "/optimizer", "type", "sgd");
    CHECK(nn_checkpoint_load(bad, &ck, err) == NN_ERR);
    CHECK_CONTAINS(err, "bad.h5: /optimizer: attribute 'momentum': missing");
    copy_file(path, bad);
    set_number_attribute(bad, "/optimizer", "beta2", 1.0, 0);
    CHECK(nn_checkpoint_load(bad, &ck, err) == NN_ERR);
    CHECK_CONTAINS(err, "bad.h5: /optimizer attribute beta2 = 1 is out of its range");
    copy_file(path, bad);
    set_number_attribute(bad, "/optimizer", "step", -1, 1);
    CHECK(nn_checkpoint_load(bad, &ck, err) == NN_ERR);
    CHECK_CONTAINS(err, "bad.h5: /optimizer attribute step = -1 is out of its range");
    copy_file(path, bad);
    set_text_attribute(bad, "/optimizer", "type", "lion");
    CHECK(nn_checkpoint_load(bad, &ck, err) == NN_ERR);
    CHECK_CONTAINS(err, "bad.h5: /optimizer has type 'lion'");
    copy_file(path, bad);
    set_number_attribute(bad, "/", "format_version", 3, 1);
    CHECK(nn_checkpoint_load(bad, &ck, err) == NN_ERR);
    CHECK_CONTAINS(err, "bad.h5: /optimizer has type 'adamw' (format 3 holds sgd)");
    copy_file(path, bad);
    f = H5Fopen(bad, H5F_ACC_RDWR, H5P_DEFAULT);
    H5Ldelete(f, "/optimizer/layer_1/biases_exp_avg_sq", H5P_DEFAULT);
    H5Fclose(f);
    CHECK(nn_checkpoint_load(bad, &ck, err) == NN_ERR);
    CHECK_CONTAINS(err, "bad.h5: layer_1/biases_exp_avg_sq is missing");
    unlink(bad);
    unlink(path);
}

/* Checkpoints of older formats load: tests/data/ckpt-v2-step2.h5 (format 2, SGD, a 784-4-10
 * model) and ckpt-v3-step2.h5 (format 3, SGD, a 784-4-10 model). */
static void test_old_formats(const char *data_dir)
{
    const int versions[] = {2, 3};
    for (int i = 0; i < 2; i++) {
        char path[1024], err[NN_ERR_LEN] = "";
        snprintf(path, sizeof path, "%s/ckpt-v%d-step2.h5", data_dir, versions[i]);
        NnCheckpoint ck;
        CHECK(nn_checkpoint_load(path, &ck, err) == NN_OK);
        if (err[0]) fprintf(stderr, "%s\n", err);
        CHECK(ck.format_version == versions[i] && ck.optim.type == NN_OPTIM_SGD);
        CHECK(ck.model.n_params == 784 * 4 + 4 + 4 * 10 + 10 && ck.optim.velocity);
        CHECK(ck.optim.momentum == 0.9f && ck.state.global_step == 2 && ck.optim.step == 0);
        float sum = 0.0f;
        for (size_t k = 0; ck.optim.velocity && k < ck.model.n_params; k++)
            sum += fabsf(ck.optim.velocity[k]);
        CHECK(sum > 0.0f); /* the velocity was read */
        nn_checkpoint_free(&ck);
    }
}

/* The fixed settings of an Adam run add the optimizer, betas and epsilon; an SGD run's are
 * what they were before there was a choice, so that its older checkpoints still resume.
 * A resume that changes any of them is refused, naming the setting. */
static void test_fixed_settings(void)
{
    NnConfig cfg;
    nn_config_defaults(&cfg);
    NnDataShape shape = {.train_rows = 60000, .features = 784, .classes = 10,
                         .validation_rows = -1, .prep = nn_preprocess_default(784)};
    char sgd[NN_FIXED_SETTINGS_LEN], adam[NN_FIXED_SETTINGS_LEN], other[NN_FIXED_SETTINGS_LEN];
    char err[NN_ERR_LEN];
    nn_resume_fixed_settings(&cfg, &shape, sgd);
    CHECK(!strstr(sgd, "optimizer") && !strstr(sgd, "beta"));
    CHECK_CONTAINS(sgd, "[model] hidden = 128\n");
    cfg.optimizer = NN_OPTIM_ADAM;
    nn_resume_fixed_settings(&cfg, &shape, adam);
    CHECK(strncmp(adam, sgd, strlen(sgd)) == 0); /* the same, and then: */
    CHECK_STREQ(adam + strlen(sgd), "[train] optimizer = adam\n[train] beta1 = 0.9\n"
                                    "[train] beta2 = 0.999\n[train] epsilon = 1e-08\n");
    CHECK(nn_resume_compare("c.h5", sgd, sgd, err) == NN_OK);
    CHECK(nn_resume_compare("c.h5", adam, adam, err) == NN_OK);
    CHECK(nn_resume_compare("c.h5", sgd, adam, err) == NN_REFUSED);
    CHECK_STREQ(err, "c.h5: [train] optimizer is sgd in the checkpoint but adam in this run; it "
                     "cannot change on resume");
    CHECK(nn_resume_compare("c.h5", adam, sgd, err) == NN_REFUSED);
    CHECK_CONTAINS(err, "c.h5: [train] optimizer is adam in the checkpoint but sgd in this run");
    cfg.beta2 = 0.99;
    nn_resume_fixed_settings(&cfg, &shape, other);
    CHECK(nn_resume_compare("c.h5", adam, other, err) == NN_REFUSED);
    CHECK_CONTAINS(err, "c.h5: [train] beta2 is 0.999 in the checkpoint but 0.99 in this run");
    cfg.beta2 = 0.999;
    cfg.optimizer = NN_OPTIM_ADAMW;
    nn_resume_fixed_settings(&cfg, &shape, other);
    CHECK(nn_resume_compare("c.h5", adam, other, err) == NN_REFUSED);
    CHECK_CONTAINS(err, "[train] optimizer is adam in the checkpoint but adamw in this run");
    /* The learning rate and weight decay may change, as with SGD. */
    cfg.optimizer = NN_OPTIM_ADAM;
    cfg.learning_rate = 0.5;
    cfg.weight_decay = 0.01;
    nn_resume_fixed_settings(&cfg, &shape, other);
    CHECK(nn_resume_compare("c.h5", adam, other, err) == NN_OK);
}

static void touch(const char *dir, const char *name)
{
    char path[600];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fclose(f);
}

static void test_directory(const char *dir)
{
    char err[NN_ERR_LEN], path[600];
    nn_checkpoint_path(dir, 42, path, sizeof path);
    CHECK_CONTAINS(path, "/ckpt-000000042.h5");
    int64_t steps_in[] = {60, 5, 100, 40, 20, 80, 120};
    for (size_t i = 0; i < 7; i++) {
        nn_checkpoint_path(dir, steps_in[i], path, sizeof path);
        FILE *f = fopen(path, "w");
        fclose(f);
    }
    touch(dir, "ckpt-000000140.h5.tmp.123"); /* an interrupted write */
    touch(dir, "ckpt-abc.h5");               /* not checkpoints */
    touch(dir, "metrics.jsonl");
    int64_t *steps;
    int count;
    CHECK(nn_checkpoint_list(dir, &steps, &count, err) == NN_OK);
    CHECK(count == 7);
    for (int i = 1; i < count; i++) CHECK(steps[i - 1] < steps[i]);
    free(steps);

    /* Retention deletes only the run's own checkpoints: 5 is not one of them. Keep the
     * newest 2 and every multiple of 40. */
    NnCheckpointSet own = {0};
    for (size_t i = 0; i < 7; i++)
        if (steps_in[i] != 5) CHECK(nn_checkpoint_set_add(&own, steps_in[i], err) == NN_OK);
    CHECK(nn_checkpoint_set_add(&own, 60, err) == NN_OK && own.count == 6); /* once each */
    CHECK(nn_checkpoint_retain(dir, &own, 2, 40, -1, err) == NN_OK);
    CHECK(nn_checkpoint_list(dir, &steps, &count, err) == NN_OK);
    int64_t expected[] = {5, 40, 80, 100, 120};
    CHECK(count == 5 && own.count == 4);
    for (int i = 0; i < count && i < 5; i++) CHECK(steps[i] == expected[i]);
    free(steps);
    /* Only the newest, but step 80 is protected (the best one). */
    CHECK(nn_checkpoint_retain(dir, &own, 1, 0, 80, err) == NN_OK);
    CHECK(nn_checkpoint_list(dir, &steps, &count, err) == NN_OK);
    CHECK(count == 3 && steps[0] == 5 && steps[1] == 80 && steps[2] == 120);
    free(steps);
    CHECK(nn_checkpoint_retain(dir, &own, 1, 0, -1, err) == NN_OK);
    CHECK(nn_checkpoint_retain(dir, &own, 0, 0, -1, err) == NN_OK); /* 0 keeps all */
    CHECK(nn_checkpoint_list(dir, &steps, &count, err) == NN_OK);
    CHECK(count == 2 && steps[0] == 5 && steps[1] == 120 && own.count == 1);
    free(steps);
    nn_checkpoint_set_free(&own);
    nn_checkpoint_path(dir, 5, path, sizeof path);
    unlink(path);

    CHECK(nn_checkpoint_remove_temps(dir) == 1);
    CHECK(count_entries(dir) == 3); /* ckpt-120, ckpt-abc.h5, metrics.jsonl */
    CHECK(nn_checkpoint_list("/nonexistent/dir", &steps, &count, err) == NN_OK && count == 0);
    nn_checkpoint_path(dir, 120, path, sizeof path);
    unlink(path);
    snprintf(path, sizeof path, "%s/ckpt-abc.h5", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/metrics.jsonl", dir);
    unlink(path);
}

int main(void)
{
    nn_h5_silence();
    char dir[] = "/tmp/nn_test_ckpt_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    test_round_trip(dir);
    test_full_disk(dir);
    test_preprocessing(dir);
    test_adam_state(dir);
    test_old_formats(NN_TEST_DATA_DIR);
    test_fixed_settings();
    test_directory(dir);
    CHECK(rmdir(dir) == 0);
    return nn_test_finish("test_checkpoint");
}
