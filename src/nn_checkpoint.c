#include "nnmpi/nn_checkpoint.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "nnmpi/nn_atomic_file.h"
#include "nnmpi/nn_fault.h"
#include "nnmpi/nn_h5.h"
#include "nnmpi/nn_hash.h"

#define FORMAT_NAME "nn-mpi checkpoint"

typedef struct {
    const char *name;
    size_t offset; /* of the int64_t or double field in NnTrainState */
    int is_real;
    int since;     /* the first format version that has it */
} StateField;

static const StateField STATE_FIELDS[] = {
    {"epochs_done", offsetof(NnTrainState, epochs_done), 0, 2},
    {"step_in_epoch", offsetof(NnTrainState, step_in_epoch), 0, 2},
    {"global_step", offsetof(NnTrainState, global_step), 0, 2},
    {"samples_seen", offsetof(NnTrainState, samples_seen), 0, 2},
    {"seed", offsetof(NnTrainState, seed), 0, 2},
    {"batch_size", offsetof(NnTrainState, batch_size), 0, 2},
    {"train_samples", offsetof(NnTrainState, train_samples), 0, 2},
    {"epoch_loss_sum", offsetof(NnTrainState, epoch_loss_sum), 1, 2},
    {"epoch_samples", offsetof(NnTrainState, epoch_samples), 0, 2},
    {"log_loss_sum", offsetof(NnTrainState, log_loss_sum), 1, 2},
    {"log_samples", offsetof(NnTrainState, log_samples), 0, 2},
    {"train_loss", offsetof(NnTrainState, train_loss), 1, 2},
    {"test_loss", offsetof(NnTrainState, test_loss), 1, 2},
    {"test_accuracy", offsetof(NnTrainState, test_accuracy), 1, 2},
    {"validation_loss", offsetof(NnTrainState, validation_loss), 1, 3},
    {"validation_accuracy", offsetof(NnTrainState, validation_accuracy), 1, 3},
    {"best_value", offsetof(NnTrainState, best_value), 1, 3},
    {"best_epoch", offsetof(NnTrainState, best_epoch), 0, 3},
    {"best_step", offsetof(NnTrainState, best_step), 0, 3},
    {"stale_epochs", offsetof(NnTrainState, stale_epochs), 0, 3},
    {"stopped_early", offsetof(NnTrainState, stopped_early), 0, 3},
};
#define N_STATE_FIELDS (sizeof STATE_FIELDS / sizeof STATE_FIELDS[0])

static int model_sizes(const NnModel *m, int64_t *sizes)
{
    sizes[0] = m->inputs;
    for (int l = 0; l < m->n_layers; l++) sizes[l + 1] = m->layers[l].out;
    return m->n_layers + 1;
}

static uint64_t hash_text(uint64_t h, const char *text)
{
    return nn_hash_update(h, text, strlen(text) + 1); /* the NUL delimits */
}

/* The checksum over everything a resume uses, as format `version` has it; prep: the
 * stored /preprocessing, or NULL when the file has none. */
static uint64_t checksum(const NnModel *m, const float *velocity, const NnPreprocess *prep,
                         const NnTrainState *s, const char *config_text,
                         const char *fixed_settings, const char *run_id, int64_t version)
{
    int64_t sizes[NN_MAX_LAYERS + 1];
    int n_sizes = model_sizes(m, sizes);
    uint64_t h = NN_HASH_START;
    h = nn_hash_update(h, m->params, sizeof(float) * m->n_params);
    h = nn_hash_update(h, velocity, sizeof(float) * m->n_params);
    for (size_t i = 0; i < N_STATE_FIELDS; i++)
        if (STATE_FIELDS[i].since <= version)
            h = nn_hash_update(h, (const char *)s + STATE_FIELDS[i].offset, 8);
    h = nn_hash_update(h, &s->nranks, sizeof s->nranks);
    h = nn_hash_update(h, sizes, sizeof(int64_t) * (size_t)n_sizes);
    h = hash_text(h, nn_activation_name(m->activation));
    h = hash_text(h, nn_loss_name(m->loss));
    h = hash_text(h, config_text);
    h = hash_text(h, fixed_settings);
    if (version >= 3) h = hash_text(h, run_id);
    if (prep) {
        h = hash_text(h, "preprocessing");
        h = hash_text(h, nn_feature_type_name(prep->type));
        h = nn_hash_update(h, &prep->scale, sizeof prep->scale);
        const float *arrays[2] = {prep->mean, prep->std};
        for (int i = 0; i < 2; i++) {
            unsigned char present = arrays[i] != NULL;
            h = nn_hash_update(h, &present, 1);
            if (present) h = nn_hash_update(h, arrays[i], sizeof(float) * (size_t)m->inputs);
        }
    }
    return nn_hash_finish(h);
}

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

/* Writes or reads /preprocessing (nn_checkpoint.h). */
static NnStatus write_preprocess(hid_t file, const NnPreprocess *p, char err[NN_ERR_LEN])
{
    hid_t group = H5Gcreate2(file, "preprocessing", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (group < 0) return nn_fail(err, "cannot create group /preprocessing");
    hsize_t dims[1] = {(hsize_t)p->features};
    NnStatus status = nn_h5_attr_write_text(group, "feature_type", nn_feature_type_name(p->type),
                                            err);
    if (status == NN_OK) status = nn_h5_attr_write_f64(group, "scale", p->scale, err);
    if (status == NN_OK && p->mean) status = nn_h5_write_f32(group, "mean", 1, dims, p->mean, err);
    if (status == NN_OK && p->std) status = nn_h5_write_f32(group, "std", 1, dims, p->std, err);
    H5Gclose(group);
    return status;
}

static NnStatus read_preprocess(hid_t file, const char *path, int inputs, NnPreprocess *p,
                                char err[NN_ERR_LEN])
{
    hid_t group = H5Gopen2(file, "preprocessing", H5P_DEFAULT);
    if (group < 0) return nn_fail(err, "%s: group /preprocessing is damaged", path);
    char *type = NULL;
    double scale = 0.0;
    float *values[2] = {NULL, NULL};
    const char *names[2] = {"mean", "std"};
    hsize_t dims[1] = {(hsize_t)inputs};
    NnStatus status = nn_h5_attr_read_text(group, "feature_type", &type, err);
    if (status == NN_OK) status = nn_h5_attr_read_f64(group, "scale", &scale, err);
    int parsed = status == NN_OK ? nn_feature_type_parse(type) : -1;
    if (status == NN_OK && (parsed < 0 || !isfinite(scale) || scale == 0.0))
        status = nn_fail(err, "%s: /preprocessing has feature_type '%s' and scale %g: the file "
                              "is damaged",
                         path, type, scale);
    for (int i = 0; i < 2 && status == NN_OK; i++) {
        if (!nn_h5_exists(group, names[i])) continue;
        values[i] = malloc(sizeof(float) * (size_t)inputs);
        status = values[i] ? nn_h5_read_f32(group, names[i], 1, dims, values[i], err)
                           : nn_fail(err, "out of memory for /preprocessing/%s", names[i]);
    }
    if (status == NN_OK) {
        *p = (NnPreprocess){.type = (NnFeatureType)parsed, .features = inputs,
                            .scale = (float)scale};
        status = nn_preprocess_set(p, values[0], values[1], path, err);
    }
    free(type);
    free(values[0]);
    free(values[1]);
    H5Gclose(group);
    return status;
}

NnStatus nn_checkpoint_write(const char *path, const NnModel *m, const NnSgd *opt,
                             const NnPreprocess *prep, const NnTrainState *state,
                             const char *config_text, const char *fixed_settings,
                             char err[NN_ERR_LEN])
{
    /* Built in memory and written out whole by nn_h5_save_memory_file (nn_h5.h). */
    hid_t file = nn_h5_create_memory_file(path, err);
    if (file < 0) return NN_ERR;
    hid_t groups[3] = {-1, -1, -1};
    const char *names[3] = {"model", "optimizer", "train"};
    NnStatus status = NN_ERR;
    for (int i = 0; i < 3; i++) {
        groups[i] = H5Gcreate2(file, names[i], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (groups[i] < 0) {
            nn_fail(err, "%s: cannot create group /%s", path, names[i]);
            goto done;
        }
    }
    hid_t model = groups[0], optim = groups[1], train = groups[2];
    int64_t sizes[NN_MAX_LAYERS + 1];
    int n_sizes = model_sizes(m, sizes);
    char hex[17], fixed_hex[17], params_hex[17];
    NN_ASSERT(!prep || prep->features == m->inputs);
    nn_hash_hex(checksum(m, opt->velocity, prep, state, config_text, fixed_settings,
                         state->run_id, NN_CHECKPOINT_FORMAT_VERSION),
                hex);
    nn_hash_hex(nn_hash_finish(hash_text(NN_HASH_START, fixed_settings)), fixed_hex);
    nn_hash_hex(nn_model_params_hash(m), params_hex);
    if (nn_h5_attr_write_text(file, "format", FORMAT_NAME, err) != NN_OK ||
        nn_h5_attr_write_i64(file, "format_version", NN_CHECKPOINT_FORMAT_VERSION, err) != NN_OK ||
        nn_h5_attr_write_text(file, "nn_mpi_version", NN_VERSION, err) != NN_OK ||
        nn_h5_attr_write_i64(file, "nranks", state->nranks, err) != NN_OK ||
        nn_h5_attr_write_text(file, "run_id", state->run_id, err) != NN_OK ||
        nn_h5_attr_write_text(file, "config", config_text, err) != NN_OK ||
        nn_h5_attr_write_text(file, "fixed_settings", fixed_settings, err) != NN_OK ||
        nn_h5_attr_write_text(file, "fixed_settings_hash", fixed_hex, err) != NN_OK ||
        nn_h5_attr_write_text(file, "checksum", hex, err) != NN_OK ||
        nn_h5_attr_write_text(file, "params_hash", params_hex, err) != NN_OK)
        goto done;
    if (nn_h5_attr_write_i64s(model, "layer_sizes", sizes, n_sizes, err) != NN_OK ||
        nn_h5_attr_write_text(model, "activation", nn_activation_name(m->activation), err) !=
            NN_OK ||
        nn_h5_attr_write_text(model, "loss", nn_loss_name(m->loss), err) != NN_OK ||
        all_layers(model, m, m->params, 0, 1, err) != NN_OK)
        goto done;
    if (nn_h5_attr_write_text(optim, "type", "sgd", err) != NN_OK ||
        nn_h5_attr_write_f64(optim, "momentum", opt->momentum, err) != NN_OK ||
        nn_h5_attr_write_f64(optim, "weight_decay", opt->weight_decay, err) != NN_OK ||
        all_layers(optim, m, opt->velocity, 1, 1, err) != NN_OK)
        goto done;
    if (prep && write_preprocess(file, prep, err) != NN_OK) goto done;
    for (size_t i = 0; i < N_STATE_FIELDS; i++) {
        const StateField *f = &STATE_FIELDS[i];
        const char *field = (const char *)state + f->offset;
        if ((f->is_real ? nn_h5_attr_write_f64(train, f->name, *(const double *)field, err)
                        : nn_h5_attr_write_i64(train, f->name, *(const int64_t *)field, err)) !=
            NN_OK)
            goto done;
    }
    status = NN_OK;
done:
    for (int i = 0; i < 3; i++)
        if (groups[i] >= 0) H5Gclose(groups[i]);
    if (status != NN_OK) {
        H5Fclose(file);
        return status;
    }
    /* Test fault stall_checkpoint@STEP (nn_fault.h): the write stops halfway, the temporary
     * file never renamed, as if the process died there; tests kill it. */
    int stall = nn_fault_hit(NN_FAULT_STALL_CHECKPOINT, &state->global_step);
    return nn_h5_save_memory_file(file, path, stall, err);
}


/* The integers after "KEY = " on the line of text that starts with KEY (comma separated);
 * returns how many, or -1 when there is no such line. */
static int setting_ints(const char *text, const char *key, int64_t *values, int max)
{
    size_t len = strlen(key);
    for (const char *line = text, *end; line && *line; line = end ? end + 1 : NULL) {
        end = strchr(line, '\n');
        if (strncmp(line, key, len) != 0 || strncmp(line + len, " = ", 3) != 0) continue;
        const char *p = line + len + 3;
        int n = 0;
        while (n < max && *p && *p != '\n') {
            char *stop;
            long long v = strtoll(p, &stop, 10);
            if (stop == p) break;
            values[n++] = v;
            p = stop + strspn(stop, ", ");
        }
        return n;
    }
    return -1;
}

/* The stored architecture is whole before anything is allocated from it: layer_sizes agree
 * with the fixed settings, and every array has its shape and its bytes in the file (so a
 * small damaged file cannot make the reader allocate gigabytes). */
static NnStatus check_architecture(hid_t model, hid_t optim, const char *path,
                                   const int64_t *sizes, int n_sizes, const char *fixed,
                                   char err[NN_ERR_LEN])
{
    int64_t listed[NN_MAX_LAYERS + 1];
    int n_hidden = setting_ints(fixed, "[model] hidden", listed, NN_MAX_LAYERS);
    int64_t features, outputs;
    int ok = n_hidden == n_sizes - 2 || (n_hidden == 0 && n_sizes == 2);
    for (int i = 0; ok && i < n_hidden; i++) ok = listed[i] == sizes[i + 1];
    if (setting_ints(fixed, "features per sample", &features, 1) == 1)
        ok &= features == sizes[0];
    /* A regression model has a targets line (and classes = 0); a classifier has none. */
    if (setting_ints(fixed, "targets", &outputs, 1) == 1 ||
        setting_ints(fixed, "classes", &outputs, 1) == 1)
        ok &= outputs == sizes[n_sizes - 1];
    if (!ok)
        return nn_fail(err, "%s: /model layer_sizes disagree with the fixed settings: the "
                            "file is damaged",
                       path);
    for (int l = 0; l + 1 < n_sizes; l++) {
        const char *kinds[4][2] = {{"weights", ""}, {"biases", ""},
                                   {"weights", "_velocity"}, {"biases", "_velocity"}};
        for (int k = 0; k < 4; k++) {
            char name[64];
            snprintf(name, sizeof name, "layer_%d/%s%s", l, kinds[k][0], kinds[k][1]);
            hid_t loc = k < 2 ? model : optim;
            int rank = k % 2 == 0 ? 2 : 1;
            hsize_t want[2] = {(hsize_t)sizes[l + 1], (hsize_t)sizes[l]}, dims[2] = {0, 0};
            hid_t dset = nn_h5_exists(loc, name) ? H5Dopen2(loc, name, H5P_DEFAULT) : -1;
            hid_t space = dset >= 0 ? H5Dget_space(dset) : -1;
            int good = space >= 0 && H5Sget_simple_extent_ndims(space) == rank &&
                       H5Sget_simple_extent_dims(space, dims, NULL) == rank &&
                       dims[0] == want[0] && (rank == 1 || dims[1] == want[1]);
            hsize_t bytes = good ? dims[0] * (rank == 2 ? dims[1] : 1) * sizeof(float) : 0;
            good = good && H5Dget_storage_size(dset) >= bytes;
            if (space >= 0) H5Sclose(space);
            if (dset >= 0) H5Dclose(dset);
            if (!good)
                return nn_fail(err, "%s: %s is missing, has another shape than layer_sizes "
                                    "say, or lacks its data: the file is damaged",
                               path, name);
        }
    }
    return NN_OK;
}

/* Builds ck->model and ck->sgd from the architecture stored under /model and /optimizer,
 * once check_architecture has vouched for it. */
static NnStatus build_model(hid_t model, hid_t optim, const char *path, NnCheckpoint *ck,
                            char err[NN_ERR_LEN])
{
    int64_t sizes[NN_MAX_LAYERS + 1];
    int n_sizes = 0;
    char *activation = NULL, *loss = NULL;
    double momentum, weight_decay;
    NnStatus status = NN_ERR;
    if (nn_h5_attr_read_i64s(model, "layer_sizes", sizes, NN_MAX_LAYERS + 1, &n_sizes, err) !=
            NN_OK ||
        nn_h5_attr_read_text(model, "activation", &activation, err) != NN_OK ||
        nn_h5_attr_read_text(model, "loss", &loss, err) != NN_OK ||
        nn_h5_attr_read_f64(optim, "momentum", &momentum, err) != NN_OK ||
        nn_h5_attr_read_f64(optim, "weight_decay", &weight_decay, err) != NN_OK)
        goto done;
    int act = nn_enum_value(nn_activation_names, activation),
        lo = nn_enum_value(nn_loss_names, loss);
    NnIntList hidden = {.count = n_sizes - 2};
    int sizes_ok = n_sizes >= 2;
    for (int i = 0; i < n_sizes; i++) sizes_ok &= sizes[i] >= 1 && sizes[i] <= (1 << 24);
    for (int i = 1; sizes_ok && i < n_sizes - 1; i++) hidden.values[i - 1] = (int)sizes[i];
    if (!sizes_ok || act < 0 || lo < 0) {
        nn_fail(err, "%s: /model has an unknown architecture (activation '%s', loss '%s')", path,
                activation, loss);
        goto done;
    }
    if (check_architecture(model, optim, path, sizes, n_sizes, ck->fixed_settings, err) != NN_OK)
        goto done;
    if (nn_model_init(&ck->model, (int)sizes[0], &hidden, (int)sizes[n_sizes - 1],
                      (NnActivation)act, (NnLoss)lo, 1, err) != NN_OK)
        goto done;
    status = nn_sgd_init(&ck->sgd, &ck->model, momentum, weight_decay, err);
done:
    free(activation);
    free(loss);
    return status;
}

NnStatus nn_checkpoint_load(const char *path, NnCheckpoint *ck, char err[NN_ERR_LEN])
{
    memset(ck, 0, sizeof *ck);
    hid_t file = nn_h5_open_file(path, "checkpoint", err);
    if (file < 0) return NN_ERR;
    NnStatus status = nn_checkpoint_load_open(file, path, ck, err);
    H5Fclose(file);
    return status;
}

NnStatus nn_checkpoint_load_open(hid_t file, const char *path, NnCheckpoint *ck,
                                 char err[NN_ERR_LEN])
{
    memset(ck, 0, sizeof *ck);
    hid_t groups[3] = {-1, -1, -1};
    const char *names[3] = {"model", "optimizer", "train"};
    char *format = NULL, *version = NULL, *stored_hex = NULL, *run_id = NULL;
    int64_t format_version;
    NnStatus status = NN_ERR;
    if (nn_h5_attr_read_text(file, "format", &format, err) != NN_OK ||
        strcmp(format, FORMAT_NAME) != 0) {
        nn_fail(err, "%s: not an nn-mpi checkpoint (no format = \"%s\" attribute)", path,
                FORMAT_NAME);
        goto done;
    }
    if (nn_h5_attr_read_i64(file, "format_version", &format_version, err) != NN_OK) goto done;
    if (format_version < NN_CHECKPOINT_OLDEST_VERSION ||
        format_version > NN_CHECKPOINT_FORMAT_VERSION) {
        nn_fail(err, "%s: checkpoint format version %" PRId64 ", this nn-mpi reads versions "
                     "%d to %d",
                path, format_version, NN_CHECKPOINT_OLDEST_VERSION,
                NN_CHECKPOINT_FORMAT_VERSION);
        goto done;
    }
    ck->format_version = (int)format_version;
    for (int i = 0; i < 3; i++) {
        groups[i] = nn_h5_exists(file, names[i]) ? H5Gopen2(file, names[i], H5P_DEFAULT) : -1;
        if (groups[i] < 0) {
            nn_fail(err, "%s: group /%s is missing or damaged", path, names[i]);
            goto done;
        }
    }
    if (nn_h5_attr_read_text(file, "fixed_settings", &ck->fixed_settings, err) != NN_OK)
        goto done;
    if (build_model(groups[0], groups[1], path, ck, err) != NN_OK) goto done;
    if (all_layers(groups[0], &ck->model, ck->model.params, 0, 0, err) != NN_OK ||
        all_layers(groups[1], &ck->model, ck->sgd.velocity, 1, 0, err) != NN_OK)
        goto done;
    ck->state = (NnTrainState){.validation_loss = NAN, .validation_accuracy = NAN,
                               .best_value = NAN, .best_step = -1};
    for (size_t i = 0; i < N_STATE_FIELDS; i++) {
        const StateField *f = &STATE_FIELDS[i];
        char *field = (char *)&ck->state + f->offset;
        if (f->since > format_version) continue;
        if ((f->is_real ? nn_h5_attr_read_f64(groups[2], f->name, (double *)field, err)
                        : nn_h5_attr_read_i64(groups[2], f->name, (int64_t *)field, err)) != NN_OK)
            goto done;
    }
    if (format_version >= 3) {
        if (nn_h5_attr_read_text(file, "run_id", &run_id, err) != NN_OK) goto done;
        snprintf(ck->state.run_id, sizeof ck->state.run_id, "%s", run_id);
    }
    if (nn_h5_attr_read_i64(file, "nranks", &ck->state.nranks, err) != NN_OK ||
        nn_h5_attr_read_text(file, "nn_mpi_version", &version, err) != NN_OK ||
        nn_h5_attr_read_text(file, "config", &ck->config_text, err) != NN_OK ||
        nn_h5_attr_read_text(file, "checksum", &stored_hex, err) != NN_OK)
        goto done;
    snprintf(ck->nn_mpi_version, sizeof ck->nn_mpi_version, "%s", version);
    ck->has_preprocessing = nn_h5_exists(file, "preprocessing");
    ck->prep = nn_preprocess_default(ck->model.inputs);
    if (ck->has_preprocessing &&
        read_preprocess(file, path, ck->model.inputs, &ck->prep, err) != NN_OK)
        goto done;
    ck->checksum = checksum(&ck->model, ck->sgd.velocity,
                            ck->has_preprocessing ? &ck->prep : NULL, &ck->state,
                            ck->config_text, ck->fixed_settings, ck->state.run_id,
                            format_version);
    char hex[17];
    nn_hash_hex(ck->checksum, hex);
    if (strcmp(hex, stored_hex) != 0) {
        nn_fail(err, "%s: checksum mismatch (stored %s, computed %s): the file is damaged", path,
                stored_hex, hex);
        goto done;
    }
    status = NN_OK;
done:
    for (int i = 0; i < 3; i++)
        if (groups[i] >= 0) H5Gclose(groups[i]);
    free(format);
    free(version);
    free(stored_hex);
    free(run_id);
    if (status != NN_OK) nn_checkpoint_free(ck);
    return status;
}

void nn_checkpoint_free(NnCheckpoint *ck)
{
    free(ck->config_text);
    free(ck->fixed_settings);
    nn_preprocess_free(&ck->prep);
    nn_sgd_free(&ck->sgd);
    nn_model_free(&ck->model);
    memset(ck, 0, sizeof *ck);
}

void nn_checkpoint_path(const char *dir, int64_t step, char *out, size_t size)
{
    snprintf(out, size, "%s/ckpt-%09" PRId64 ".h5", dir, step);
}

/* The step of a checkpoint file name "ckpt-<digits>.h5", or -1. */
static int64_t step_of_name(const char *name)
{
    int end = 0;
    long long step;
    if (strncmp(name, "ckpt-", 5) != 0 || name[5] < '0' || name[5] > '9') return -1;
    if (sscanf(name, "ckpt-%lld.h5%n", &step, &end) != 1 || end == 0 || name[end] != '\0')
        return -1;
    return step;
}

static int compare_steps(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

NnStatus nn_checkpoint_list(const char *dir, int64_t **steps, int *count, char err[NN_ERR_LEN])
{
    *steps = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) return NN_OK;
        return nn_fail(err, "%s: cannot list checkpoints: %s", dir, strerror(errno));
    }
    int cap = 0;
    for (struct dirent *e; (e = readdir(d));) {
        int64_t step = step_of_name(e->d_name);
        if (step < 0) continue;
        if (*count == cap) {
            cap = cap ? cap * 2 : 16;
            int64_t *bigger = realloc(*steps, sizeof(int64_t) * (size_t)cap);
            if (!bigger) {
                closedir(d);
                free(*steps);
                *steps = NULL;
                return nn_fail(err, "out of memory listing %s", dir);
            }
            *steps = bigger;
        }
        (*steps)[(*count)++] = step;
    }
    closedir(d);
    if (*count) qsort(*steps, (size_t)*count, sizeof(int64_t), compare_steps);
    return NN_OK;
}

NnStatus nn_checkpoint_set_add(NnCheckpointSet *set, int64_t step, char err[NN_ERR_LEN])
{
    for (int i = 0; i < set->count; i++)
        if (set->steps[i] == step) return NN_OK;
    if (set->count == set->cap) {
        int cap = set->cap ? 2 * set->cap : 16;
        int64_t *bigger = realloc(set->steps, sizeof(int64_t) * (size_t)cap);
        if (!bigger) return nn_fail(err, "out of memory for the list of checkpoints");
        set->steps = bigger;
        set->cap = cap;
    }
    set->steps[set->count++] = step;
    qsort(set->steps, (size_t)set->count, sizeof(int64_t), compare_steps);
    return NN_OK;
}

void nn_checkpoint_set_free(NnCheckpointSet *set)
{
    free(set->steps);
    memset(set, 0, sizeof *set);
}

NnStatus nn_checkpoint_retain(const char *dir, NnCheckpointSet *own, int keep,
                              int64_t keep_multiple, int64_t protect, char err[NN_ERR_LEN])
{
    if (keep == 0) return NN_OK;
    NnStatus status = NN_OK;
    int kept = 0;
    for (int i = 0; i < own->count; i++) {
        int64_t step = own->steps[i];
        int newest = i >= own->count - keep;
        if (newest || step == protect || (keep_multiple > 0 && step % keep_multiple == 0)) {
            own->steps[kept++] = step;
            continue;
        }
        char path[4096];
        nn_checkpoint_path(dir, step, path, sizeof path);
        if (unlink(path) != 0 && errno != ENOENT) {
            if (status == NN_OK)
                status = nn_fail(err, "%s: cannot delete old checkpoint: %s", path,
                                 strerror(errno));
            own->steps[kept++] = step;
        }
    }
    own->count = kept;
    return status;
}

int nn_checkpoint_remove_temps(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, "ckpt-", 5) != 0 || !strstr(e->d_name, ".h5.tmp.")) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        removed += unlink(path) == 0;
    }
    closedir(d);
    return removed;
}
