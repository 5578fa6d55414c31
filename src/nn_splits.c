#include "nnmpi/nn_splits.h"

#include <stdlib.h>
#include <string.h>

#include "nnmpi/nn_comm.h"
#include "nnmpi/nn_fault.h"
#include "nnmpi/nn_sampler.h"

/* The rank-independent checks of [data] validation against the file, agreed. */
static NnStatus check_validation_key(MPI_Comm comm, const NnConfig *cfg, int in_file,
                                     int64_t n, char err[NN_ERR_LEN])
{
    NnStatus status = NN_OK;
    if (in_file && cfg->validation > 0)
        status = nn_fail(err,
                         "%s: the file has its own /validation split, so [data] validation "
                         "must be 0 (it is %lld)",
                         cfg->data_path, (long long)cfg->validation);
    else if (!in_file && cfg->validation > 0 && cfg->validation >= n)
        status = nn_fail(err,
                         "%s: [data] validation = %lld: must be less than the %lld training "
                         "rows in use",
                         cfg->data_path, (long long)cfg->validation, (long long)n);
    return nn_comm_agree(comm, status, err);
}

/* Holds V rows out of the training split and reads them as the validation split. */
static NnStatus hold_out(MPI_Comm comm, const NnConfig *cfg, int64_t unit, NnSplits *out,
                         char err[NN_ERR_LEN])
{
    int64_t n = out->train.total, v = cfg->validation;
    int32_t *val_rows = malloc(sizeof(int32_t) * (size_t)v);
    out->train_rows = nn_fault_alloc(NN_STAGE_SPLITS, malloc(sizeof(int32_t) * (size_t)(n - v)));
    NnStatus status = NN_OK;
    if (!val_rows || !out->train_rows)
        status = nn_fail(err, "out of memory for the lists of %lld training rows",
                         (long long)n);
    status = nn_comm_agree(comm, status, err);
    if (status == NN_OK) {
        nn_sampler_validation_split(cfg->seed, n, v, val_rows, out->train_rows);
        out->n_train_rows = n - v;
        status = nn_dataset_read_rows(comm, cfg->data_path, "train", val_rows, v, unit,
                                      &out->validation, err);
    }
    free(val_rows);
    return status;
}

/* A file without 'classes': the largest label of every split (all its rows) plus one, at
 * least 2, agreed with one reduction. nn_dataset_probe infers the same on rank 0 alone. */
static NnStatus infer_classes(MPI_Comm comm, const char *path, NnSplits *out,
                              char err[NN_ERR_LEN])
{
    NnSamples *splits[3] = {&out->train, &out->validation, &out->test};
    int64_t top = -1;
    for (int i = 0; i < 3; i++)
        if (splits[i]->max_label > top) top = splits[i]->max_label;
    NN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &top, 1, MPI_INT64_T, MPI_MAX, comm));
    /* The same on every rank; compared before adding 1, which INT64_MAX would overflow. */
    if (top >= NN_DATASET_MAX_CLASSES)
        return nn_fail(err, "%s: the largest label is %lld; at most %lld classes are supported",
                       path, (long long)top, (long long)NN_DATASET_MAX_CLASSES);
    int64_t classes = top + 1 < 2 ? 2 : top + 1;
    for (int i = 0; i < 3; i++) splits[i]->classes = (int)classes;
    return NN_OK;
}

NnStatus nn_splits_read(MPI_Comm comm, const NnConfig *cfg, int64_t unit, NnSplits *out,
                        char err[NN_ERR_LEN])
{
    memset(out, 0, sizeof *out);
    const char *path = cfg->data_path;
    int in_file = 0;
    NnStatus status = nn_dataset_read(comm, path, "train", cfg->train_samples, 1, &out->train,
                                      err);
    if (status == NN_OK)
        status = nn_dataset_read(comm, path, "test", cfg->test_samples, unit, &out->test, err);
    if (status == NN_OK) status = nn_dataset_has_split(comm, path, "validation", &in_file, err);
    if (status == NN_OK) status = check_validation_key(comm, cfg, in_file, out->train.total, err);
    if (status == NN_OK && in_file) {
        out->validation_in_file = 1;
        out->n_train_rows = out->train.total;
        status = nn_dataset_read(comm, path, "validation", 0, unit, &out->validation, err);
    } else if (status == NN_OK && cfg->validation > 0) {
        status = hold_out(comm, cfg, unit, out, err);
    } else if (status == NN_OK) {
        out->n_train_rows = out->train.total;
        const NnSamples *t = &out->train;
        out->validation = (NnSamples){.features = t->features, .classes = t->classes,
                                      .targets = t->targets, .label_bytes = t->label_bytes,
                                      .max_label = -1};
        status = nn_preprocess_copy(&out->validation.prep, &t->prep, err);
        status = nn_comm_agree(comm, status, err);
    }
    if (status == NN_OK && out->train.classes == 0 && out->train.targets == 0)
        status = infer_classes(comm, path, out, err);
    if (status != NN_OK) nn_splits_free(out);
    return status;
}

void nn_splits_free(NnSplits *splits)
{
    nn_samples_free(&splits->train);
    nn_samples_free(&splits->validation);
    nn_samples_free(&splits->test);
    free(splits->train_rows);
    memset(splits, 0, sizeof *splits);
}
