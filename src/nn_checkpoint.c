#include "nnmpi/nn_checkpoint.h"

#include <string.h>
#include <unistd.h>

#include "nnmpi/nn_atomic_file.h"
#include "nnmpi/nn_h5.h"

#define FORMAT_NAME "nn-mpi checkpoint"

/* "784-128-10" */
static void format_sizes(const int64_t *sizes, int n, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < n && used < size; i++)
        used += (size_t)snprintf(out + used, size - used, "%s%lld", i ? "-" : "",
                                 (long long)sizes[i]);
}

static int model_sizes(const NnModel *m, int64_t *sizes)
{
    sizes[0] = m->inputs;
    for (int l = 0; l < m->n_layers; l++) sizes[l + 1] = m->layers[l].out;
    return m->n_layers + 1;
}

typedef struct {
    const char *name;
    size_t offset; /* of the int64_t or double field in NnTrainState */
    int is_real;
} StateField;

static const StateField STATE_FIELDS[] = {
    {"epochs_done", offsetof(NnTrainState, epochs_done), 0},
    {"step_in_epoch", offsetof(NnTrainState, step_in_epoch), 0},
    {"global_step", offsetof(NnTrainState, global_step), 0},
    {"samples_seen", offsetof(NnTrainState, samples_seen), 0},
    {"seed", offsetof(NnTrainState, seed), 0},
    {"batch_size", offsetof(NnTrainState, batch_size), 0},
    {"train_samples", offsetof(NnTrainState, train_samples), 0},
    {"train_loss", offsetof(NnTrainState, train_loss), 1},
    {"test_loss", offsetof(NnTrainState, test_loss), 1},
    {"test_accuracy", offsetof(NnTrainState, test_accuracy), 1},
};

/* Writes or reads (writing != 0) one layer's two arrays under group loc. */
static NnStatus layer_arrays(hid_t loc, int l, const NnLayer *L, float *weights, float *biases,
                             const char *suffix, int writing, char err[NN_ERR_LEN])
{
    char name[64];
    hsize_t wdims[2] = {(hsize_t)L->out, (hsize_t)L->in}, bdims[1] = {(hsize_t)L->out};
    snprintf(name, sizeof name, "layer_%d/weights%s", l, suffix);
    NnStatus status = writing ? nn_h5_write_f32(loc, name, 2, wdims, weights, err)
                              : nn_h5_read_f32(loc, name, 2, wdims, weights, err);
    if (status != NN_OK) return status;
    snprintf(name, sizeof name, "layer_%d/biases%s", l, suffix);
    return writing ? nn_h5_write_f32(loc, name, 1, bdims, biases, err)
                   : nn_h5_read_f32(loc, name, 1, bdims, biases, err);
}

/* All layers of the model (velocity == 0) or of the optimizer state. */
static NnStatus all_layers(hid_t group, const NnModel *m, float *base, int velocity, int writing,
                           char err[NN_ERR_LEN])
{
    for (int l = 0; l < m->n_layers; l++) {
        const NnLayer *L = &m->layers[l];
        if (writing) {
            char name[32];
            snprintf(name, sizeof name, "layer_%d", l);
            hid_t g = H5Gcreate2(group, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            if (g < 0) return nn_fail(err, "cannot create group %s", name);
            H5Gclose(g);
        }
        float *w = base + (L->weights - m->params);
        NnStatus status = layer_arrays(group, l, L, w, w + (size_t)L->out * L->in,
                                       velocity ? "_velocity" : "", writing, err);
        if (status != NN_OK) return status;
    }
    return NN_OK;
}

static hid_t make_group(hid_t file, const char *name)
{
    return H5Gcreate2(file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
}

NnStatus nn_checkpoint_write(const char *path, const NnModel *m, const NnSgd *opt,
                             const NnTrainState *state, const char *config_text,
                             char err[NN_ERR_LEN])
{
    char temp[4096];
    nn_atomic_temp_name(path, temp, sizeof temp);
    hid_t file = H5Fcreate(temp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    if (file < 0) return nn_fail(err, "%s: cannot create checkpoint file", temp);
    hid_t model = make_group(file, "model"), optim = make_group(file, "optimizer"),
          train = make_group(file, "train");
    NnStatus status = NN_OK;
    if (model < 0 || optim < 0 || train < 0)
        status = nn_fail(err, "%s: cannot create groups", temp);
    int64_t sizes[NN_MAX_LAYERS + 1];
    int n_sizes = model_sizes(m, sizes);
    if (status == NN_OK) status = nn_h5_attr_write_text(file, "format", FORMAT_NAME, err);
    if (status == NN_OK)
        status = nn_h5_attr_write_i64(file, "format_version", NN_CHECKPOINT_FORMAT_VERSION, err);
    if (status == NN_OK) status = nn_h5_attr_write_text(file, "nn_mpi_version", NN_VERSION, err);
    if (status == NN_OK) status = nn_h5_attr_write_i64(file, "nranks", state->nranks, err);
    if (status == NN_OK) status = nn_h5_attr_write_text(file, "config", config_text, err);
    if (status == NN_OK)
        status = nn_h5_attr_write_i64s(model, "layer_sizes", sizes, n_sizes, err);
    if (status == NN_OK)
        status = nn_h5_attr_write_text(model, "activation", nn_activation_name(m->activation), err);
    if (status == NN_OK) status = nn_h5_attr_write_text(model, "loss", nn_loss_name(m->loss), err);
    if (status == NN_OK) status = all_layers(model, m, m->params, 0, 1, err);
    if (status == NN_OK) status = nn_h5_attr_write_text(optim, "type", "sgd", err);
    if (status == NN_OK) status = nn_h5_attr_write_f64(optim, "momentum", opt->momentum, err);
    if (status == NN_OK)
        status = nn_h5_attr_write_f64(optim, "weight_decay", opt->weight_decay, err);
    if (status == NN_OK) status = all_layers(optim, m, opt->velocity, 1, 1, err);
    for (size_t i = 0; i < sizeof STATE_FIELDS / sizeof STATE_FIELDS[0] && status == NN_OK; i++) {
        const StateField *f = &STATE_FIELDS[i];
        const char *field = (const char *)state + f->offset;
        status = f->is_real ? nn_h5_attr_write_f64(train, f->name, *(const double *)field, err)
                            : nn_h5_attr_write_i64(train, f->name, *(const int64_t *)field, err);
    }
    if (status == NN_OK && H5Fflush(file, H5F_SCOPE_GLOBAL) < 0)
        status = nn_fail(err, "%s: cannot flush", temp);
    if (train >= 0) H5Gclose(train);
    if (optim >= 0) H5Gclose(optim);
    if (model >= 0) H5Gclose(model);
    if (H5Fclose(file) < 0 && status == NN_OK) status = nn_fail(err, "%s: cannot close", temp);
    if (status != NN_OK) {
        unlink(temp);
        return status;
    }
    return nn_atomic_commit(temp, path, err);
}

/* Checks the file's format attributes and that its architecture is m's. */
static NnStatus check_header(hid_t file, hid_t model, const char *path, const NnModel *m,
                             char err[NN_ERR_LEN])
{
    char *format = NULL, *activation = NULL, *loss = NULL;
    int64_t version, sizes[NN_MAX_LAYERS + 1], want[NN_MAX_LAYERS + 1];
    int n_sizes = 0, n_want = model_sizes(m, want);
    NnStatus status = NN_ERR;
    if (nn_h5_attr_read_text(file, "format", &format, err) != NN_OK ||
        strcmp(format, FORMAT_NAME) != 0) {
        nn_fail(err, "%s: not an nn-mpi checkpoint (no format = \"%s\" attribute)", path,
                FORMAT_NAME);
        goto done;
    }
    if (nn_h5_attr_read_i64(file, "format_version", &version, err) != NN_OK) goto done;
    if (version != NN_CHECKPOINT_FORMAT_VERSION) {
        nn_fail(err, "%s: checkpoint format version %lld, this nn-mpi reads version %d", path,
                (long long)version, NN_CHECKPOINT_FORMAT_VERSION);
        goto done;
    }
    if (nn_h5_attr_read_i64s(model, "layer_sizes", sizes, NN_MAX_LAYERS + 1, &n_sizes, err) !=
            NN_OK ||
        nn_h5_attr_read_text(model, "activation", &activation, err) != NN_OK ||
        nn_h5_attr_read_text(model, "loss", &loss, err) != NN_OK)
        goto done;
    char have[256], need[256];
    format_sizes(sizes, n_sizes, have, sizeof have);
    format_sizes(want, n_want, need, sizeof need);
    if (strcmp(have, need) != 0) {
        nn_fail(err, "%s: checkpoint has layers %s but the config and data give %s", path, have,
                need);
        goto done;
    }
    if (strcmp(activation, nn_activation_name(m->activation)) != 0 ||
        strcmp(loss, nn_loss_name(m->loss)) != 0) {
        nn_fail(err, "%s: checkpoint has activation %s and loss %s but the config gives %s and %s",
                path, activation, loss, nn_activation_name(m->activation), nn_loss_name(m->loss));
        goto done;
    }
    status = NN_OK;
done:
    free(format);
    free(activation);
    free(loss);
    return status;
}

NnStatus nn_checkpoint_read(const char *path, NnModel *m, NnSgd *opt, NnTrainState *state,
                            char err[NN_ERR_LEN])
{
    if (access(path, R_OK) != 0) return nn_fail(err, "%s: cannot open checkpoint", path);
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) return nn_fail(err, "%s: not an HDF5 file, or damaged", path);
    hid_t model = -1, optim = -1, train = -1;
    NnStatus status = NN_ERR;
    const char *groups[3] = {"model", "optimizer", "train"};
    for (int i = 0; i < 3; i++)
        if (!nn_h5_exists(file, groups[i])) {
            nn_fail(err, "%s: group /%s is missing", path, groups[i]);
            goto done;
        }
    model = H5Gopen2(file, "model", H5P_DEFAULT);
    optim = H5Gopen2(file, "optimizer", H5P_DEFAULT);
    train = H5Gopen2(file, "train", H5P_DEFAULT);
    if (model < 0 || optim < 0 || train < 0) {
        nn_fail(err, "%s: cannot open groups", path);
        goto done;
    }
    if (check_header(file, model, path, m, err) != NN_OK) goto done;
    if (all_layers(model, m, m->params, 0, 0, err) != NN_OK) goto done;
    if (all_layers(optim, m, opt->velocity, 1, 0, err) != NN_OK) goto done;
    if (nn_h5_attr_read_i64(file, "nranks", &state->nranks, err) != NN_OK) goto done;
    for (size_t i = 0; i < sizeof STATE_FIELDS / sizeof STATE_FIELDS[0]; i++) {
        const StateField *f = &STATE_FIELDS[i];
        char *field = (char *)state + f->offset;
        if ((f->is_real ? nn_h5_attr_read_f64(train, f->name, (double *)field, err)
                        : nn_h5_attr_read_i64(train, f->name, (int64_t *)field, err)) != NN_OK)
            goto done;
    }
    status = NN_OK;
done:
    if (train >= 0) H5Gclose(train);
    if (optim >= 0) H5Gclose(optim);
    if (model >= 0) H5Gclose(model);
    H5Fclose(file);
    return status;
}
