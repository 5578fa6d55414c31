/* nn-mpi eval CHECKPOINT [--data FILE] [--split test|validation|train] [--top-k K] [--json]
 *                        [--confusion FILE.svg] [--errors FILE.png]:
 * the checkpoint's loss and accuracy (or regression errors) on a split of its dataset (or
 * of FILE), with per-class precision, recall, F1 and support and the confusion matrix. It
 * runs as one process or under mpirun: each rank evaluates its shard with nn_evaluate, as
 * training does, so on the run's own data and split it reports the logged test loss and
 * accuracy (the same bits in reproducible mode). Rank 0 can also draw the confusion matrix
 * as a heat map (nn_plot.h) and the first misclassified images as a grid (nn_image_grid.h),
 * from the rows the ranks gather to it. Exit status 0, 1 (a damaged checkpoint, unreadable
 * or mismatched data, a picture that cannot be drawn or written), 2 (bad usage). */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_cli.h"
#include "nnmpi/nn_checkpoint.h"
#include "nnmpi/nn_comm.h"
#include "nnmpi/nn_evaluate.h"
#include "nnmpi/nn_h5.h"
#include "nnmpi/nn_image_grid.h"
#include "nnmpi/nn_plot.h"
#include "nnmpi/nn_splits.h"
#include "nnmpi/nn_svg.h"
#include "nnmpi/nn_trainer.h"

/* Classes up to which the confusion matrix is counted (8 MiB of counts). */
#define MAX_CONFUSION_CLASSES 1024
/* Classes up to which the table shows the confusion matrix (JSON always has it). */
#define MAX_PRINTED_CLASSES 20
/* Classes up to which --confusion draws the matrix (10^4 cells). */
#define MAX_DRAWN_CLASSES 100
/* Misclassified images --errors draws, the first in row order; images up to this many
 * pixels a side. */
#define MAX_ERROR_IMAGES 64
#define MAX_ERROR_SIDE 512

typedef struct {
    const char *checkpoint, *data, *split;
    const char *confusion_svg, *errors_png; /* NULL: not drawn */
    int top_k, json, help;
} EvalArgs;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: nn-mpi eval CHECKPOINT [--data FILE] [--split test|validation|train]\n"
            "                   [--top-k K] [--json] [--confusion FILE.svg] [--errors FILE.png]\n"
            "Evaluates the model in CHECKPOINT on a split of the dataset it was trained on\n"
            "(its config's [data] path, train_samples, test_samples and validation), or on the\n"
            "whole split of FILE, applying the checkpoint's input preprocessing. Prints the\n"
            "loss, accuracy, top-K accuracy, per-class precision, recall, F1 and support and\n"
            "the confusion matrix (rows: true class, columns: predicted); for a regression\n"
            "model, the loss, RMSE, MAE and R^2. Run it alone or under mpirun: each rank\n"
            "evaluates its shard, as training does.\n"
            "  --data FILE      evaluate on FILE (an nn-mpi dataset) instead: its whole split\n"
            "                   (--split validation: its own /validation)\n"
            "  --split NAME     test (default), validation, or train (the rows training visits)\n"
            "  --top-k K        also the fraction whose label is among the K largest outputs\n"
            "                   (default 5, when the model has more than 5 classes)\n"
            "  --json           one JSON object instead of the table\n"
            "  --confusion FILE.svg  also draw the confusion matrix as a heat map (cells shaded\n"
            "                   by their share of the true class, counts written up to 20\n"
            "                   classes; up to 100 classes)\n"
            "  --errors FILE.png     also draw the first 64 misclassified images (in row order)\n"
            "                   in a grid, each with its true and predicted class; for image\n"
            "                   data: features with an image_shape attribute, or a square\n"
            "                   count of them (784: 28x28)\n"
            "Rank 0 writes the pictures, each whole or not at all.\n"
            "Exit status: 0 done, 1 a damaged checkpoint or unreadable or mismatched data, or a\n"
            "picture that cannot be drawn (a regression model, not images) or written,\n"
            "2 bad usage.\n");
}

static NnStatus parse_args(int argc, char **argv, EvalArgs *a, char err[NN_ERR_LEN])
{
    *a = (EvalArgs){.split = "test", .top_k = -1};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            a->help = 1;
        } else if (strcmp(arg, "--json") == 0) {
            a->json = 1;
        } else if (strcmp(arg, "--confusion") == 0 || strcmp(arg, "--errors") == 0) {
            if (i + 1 == argc) return nn_fail(err, "%s needs a value", arg);
            const char *value = argv[++i], *ext = arg[2] == 'c' ? ".svg" : ".png";
            size_t n = strlen(value);
            if (n <= 4 || strcmp(value + n - 4, ext) != 0)
                return nn_fail(err, "%s %s: it writes %s; name the file *%s", arg, value,
                               arg[2] == 'c' ? "SVG" : "PNG", ext);
            if (arg[2] == 'c')
                a->confusion_svg = value;
            else
                a->errors_png = value;
        } else if (strcmp(arg, "--data") == 0 || strcmp(arg, "--split") == 0 ||
                   strcmp(arg, "--top-k") == 0) {
            if (i + 1 == argc) return nn_fail(err, "%s needs a value", arg);
            const char *value = argv[++i];
            if (arg[2] == 'd') {
                a->data = value;
            } else if (arg[2] == 's') {
                if (strcmp(value, "test") && strcmp(value, "validation") && strcmp(value, "train"))
                    return nn_fail(err, "--split %s: expected test, validation or train", value);
                a->split = value;
            } else {
                char *end;
                long k = strtol(value, &end, 10);
                if (*value == '\0' || *end != '\0' || k < 1 || k > 1000000)
                    return nn_fail(err, "--top-k %s: expected a whole number >= 1", value);
                a->top_k = (int)k;
            }
        } else if (arg[0] == '-') {
            return nn_fail(err, "unknown option %s (see --help)", arg);
        } else if (a->checkpoint) {
            return nn_fail(err, "more than one checkpoint: %s and %s", a->checkpoint, arg);
        } else {
            a->checkpoint = arg;
        }
    }
    if (!a->help && !a->checkpoint) return nn_fail(err, "no checkpoint given (see --help)");
    return NN_OK;
}

/* The run's config from the checkpoint, pointed at --data (whole splits) when given. */
static NnStatus eval_config(const NnCheckpoint *ck, const EvalArgs *a, NnConfig *cfg,
                            char err[NN_ERR_LEN])
{
    nn_config_defaults(cfg);
    char source[NN_PATH_LEN + 32];
    snprintf(source, sizeof source, "%s (its config)", a->checkpoint);
    if (nn_config_parse(ck->config_text, source, cfg, err) != NN_OK) return NN_ERR;
    /* Checkpoints record the run's values; a config of its own (tests) may say auto. */
    int ranks;
    MPI_Comm_size(MPI_COMM_WORLD, &ranks);
    nn_config_resolve(cfg, ranks);
    if (a->data) {
        if (strlen(a->data) >= sizeof cfg->data_path)
            return nn_fail(err, "--data: the path is too long");
        snprintf(cfg->data_path, sizeof cfg->data_path, "%s", a->data);
        cfg->train_samples = cfg->test_samples = cfg->validation = 0;
    }
    return NN_OK;
}

/* Collective. This rank's shard of the split to evaluate, in whole units of the run's
 * chunk (as the trainer's test and validation shards). */
static NnStatus read_split(MPI_Comm comm, const NnConfig *cfg, const char *split, NnSamples *out,
                           char err[NN_ERR_LEN])
{
    NnSplits splits;
    int64_t unit = nn_trainer_test_unit(cfg);
    memset(out, 0, sizeof *out);
    if (nn_splits_read(comm, cfg, unit, &splits, err) != NN_OK) return NN_ERR;
    NnStatus status = NN_OK;
    if (strcmp(split, "test") == 0) {
        *out = splits.test;
        memset(&splits.test, 0, sizeof splits.test);
    } else if (strcmp(split, "validation") == 0) {
        if (splits.validation.total == 0)
            status = nn_fail(err, "%s has no validation split, and the run held none out of "
                                  "its training split ([data] validation = 0)",
                             cfg->data_path);
        status = nn_comm_agree(comm, status, err); /* the same on every rank */
        *out = splits.validation;
        memset(&splits.validation, 0, sizeof splits.validation);
    } else if (splits.train_rows) { /* the rows training visits, without the held-out ones */
        status = nn_dataset_read_rows(comm, cfg->data_path, "train", splits.train_rows,
                                      splits.n_train_rows, unit, out, err);
    } else {
        status = nn_dataset_read(comm, cfg->data_path, "train", cfg->train_samples, unit, out,
                                 err);
    }
    /* Classes inferred from the labels by nn_splits_read hold for every split. */
    if (status == NN_OK && out->classes == 0) out->classes = splits.train.classes;
    nn_splits_free(&splits);
    return status; /* agreed */
}

/* The data fits the model: features, outputs and feature type. Then the model's own input
 * preprocessing (the checkpoint's) replaces the file's, as predict and export apply it. */
static NnStatus check_fit(const NnCheckpoint *ck, const NnConfig *cfg, NnSamples *s,
                          char err[NN_ERR_LEN])
{
    const NnModel *m = &ck->model;
    int outputs = s->targets ? s->targets : s->classes;
    if (nn_trainer_check_task(cfg, s->targets, err) != NN_OK) return NN_ERR;
    if (s->features != m->inputs || outputs != m->outputs)
        return nn_fail(err, "%s has %d features and %d %s per row, but the model takes %d "
                            "inputs and gives %d outputs",
                       cfg->data_path, s->features, outputs, s->targets ? "targets" : "classes",
                       m->inputs, m->outputs);
    if (s->prep.type != ck->prep.type)
        return nn_fail(err, "%s has %s features, but the model was trained on %s features",
                       cfg->data_path, nn_feature_type_name(s->prep.type),
                       nn_feature_type_name(ck->prep.type));
    NnPreprocess model_prep;
    if (nn_preprocess_copy(&model_prep, &ck->prep, err) != NN_OK) return NN_ERR;
    nn_preprocess_free(&s->prep);
    s->prep = model_prep;
    return NN_OK;
}

/* A model for evaluation in blocks of rows_cap rows: a view of the checkpoint's weights
 * (ck owns them and outlives it). */
static NnStatus eval_model(const NnCheckpoint *ck, int rows_cap, NnModel *m,
                           char err[NN_ERR_LEN])
{
    const NnModel *src = &ck->model;
    NnIntList hidden = {.count = src->n_layers - 1};
    for (int l = 0; l + 1 < src->n_layers; l++) hidden.values[l] = src->layers[l].out;
    if (nn_model_init(m, src->inputs, &hidden, src->outputs, src->activation, src->loss,
                      rows_cap, err) != NN_OK)
        return NN_ERR;
    nn_model_bind(m, src->params, NULL);
    return NN_OK;
}

static void json_number(FILE *out, const char *key, double v)
{
    if (isfinite(v))
        fprintf(out, ",\"%s\":%.17g", key, v);
    else
        fprintf(out, ",\"%s\":null", key);
}

typedef struct {
    double precision, recall, f1;
    int64_t support;
} ClassScore;

/* Class c's scores from the confusion matrix (C, C). A class never predicted has precision
 * 0, one never present recall 0 (as scikit-learn reports them). */
static ClassScore class_score(const int64_t *confusion, int C, int c)
{
    int64_t predicted = 0, support = 0, hit = confusion[(size_t)c * C + c];
    for (int j = 0; j < C; j++) {
        support += confusion[(size_t)c * C + j];
        predicted += confusion[(size_t)j * C + c];
    }
    ClassScore s = {.support = support};
    s.precision = predicted ? (double)hit / (double)predicted : 0.0;
    s.recall = support ? (double)hit / (double)support : 0.0;
    s.f1 = s.precision + s.recall > 0 ? 2 * s.precision * s.recall / (s.precision + s.recall)
                                      : 0.0;
    return s;
}

typedef struct {
    const EvalArgs *args;
    const NnConfig *cfg;
    const NnCheckpoint *ck;
    const NnEvalResult *r;
    const int64_t *confusion; /* (C, C) or NULL */
    int classes, targets, top_k, ranks;
} Report;

static void print_json(const Report *p)
{
    const NnEvalResult *r = p->r;
    printf("{\"checkpoint\":\"%s\",\"data\":\"%s\",\"split\":\"%s\",\"samples\":%lld,"
           "\"ranks\":%d,\"reproducible\":%s",
           p->args->checkpoint, p->cfg->data_path, p->args->split, (long long)r->samples,
           p->ranks, p->cfg->reproducible ? "true" : "false");
    json_number(stdout, "loss", r->mean_loss);
    if (p->targets) {
        json_number(stdout, "rmse", r->rmse);
        json_number(stdout, "mae", r->mae);
        json_number(stdout, "r2", r->r2);
        printf("}\n");
        return;
    }
    json_number(stdout, "accuracy", r->accuracy);
    if (p->top_k > 0) {
        printf(",\"top_k\":%d", p->top_k);
        json_number(stdout, "top_k_accuracy", r->top_k_accuracy);
    }
    if (p->confusion) {
        int C = p->classes;
        printf(",\"classes\":[");
        for (int c = 0; c < C; c++) {
            ClassScore s = class_score(p->confusion, C, c);
            printf("%s{\"class\":%d", c ? "," : "", c);
            json_number(stdout, "precision", s.precision);
            json_number(stdout, "recall", s.recall);
            json_number(stdout, "f1", s.f1);
            printf(",\"support\":%lld}", (long long)s.support);
        }
        printf("],\"confusion\":[");
        for (int c = 0; c < C; c++) {
            printf("%s[", c ? "," : "");
            for (int j = 0; j < C; j++)
                printf("%s%lld", j ? "," : "", (long long)p->confusion[(size_t)c * C + j]);
            printf("]");
        }
        printf("]");
    }
    printf("}\n");
}

static void print_table(const Report *p)
{
    const NnEvalResult *r = p->r;
    const NnTrainState *s = &p->ck->state;
    printf("checkpoint: %s (epoch %lld, step %lld)\n", p->args->checkpoint,
           (long long)s->epochs_done, (long long)s->global_step);
    printf("data: %s, %s split, %lld samples, %d rank%s, %s sums\n", p->cfg->data_path,
           p->args->split, (long long)r->samples, p->ranks, p->ranks == 1 ? "" : "s",
           p->cfg->reproducible ? "exact (reproducible)" : "float");
    if (p->targets) {
        printf("loss %.6f  rmse %.6g  mae %.6g  r2 %.6f\n", r->mean_loss, r->rmse, r->mae,
               r->r2);
        return;
    }
    printf("loss %.6f  accuracy %.2f%%", r->mean_loss, 100.0 * r->accuracy);
    if (p->top_k > 0) printf("  top-%d accuracy %.2f%%", p->top_k, 100.0 * r->top_k_accuracy);
    printf("\n");
    if (!p->confusion) {
        printf("(no per-class table: more than %d classes)\n", MAX_CONFUSION_CLASSES);
        return;
    }
    int C = p->classes;
    printf("\n%8s %10s %10s %10s %10s\n", "class", "precision", "recall", "f1", "support");
    double macro[3] = {0, 0, 0}, weighted[3] = {0, 0, 0};
    for (int c = 0; c < C; c++) {
        ClassScore cs = class_score(p->confusion, C, c);
        printf("%8d %10.4f %10.4f %10.4f %10lld\n", c, cs.precision, cs.recall, cs.f1,
               (long long)cs.support);
        double v[3] = {cs.precision, cs.recall, cs.f1};
        for (int k = 0; k < 3; k++) {
            macro[k] += v[k] / C;
            weighted[k] += r->samples ? v[k] * (double)cs.support / (double)r->samples : 0.0;
        }
    }
    printf("%8s %10.4f %10.4f %10.4f %10lld\n", "macro", macro[0], macro[1], macro[2],
           (long long)r->samples);
    printf("%8s %10.4f %10.4f %10.4f %10lld\n", "weighted", weighted[0], weighted[1],
           weighted[2], (long long)r->samples);
    if (C > MAX_PRINTED_CLASSES) {
        printf("\n(confusion matrix of %d classes: see --json)\n", C);
        return;
    }
    printf("\nconfusion matrix (rows: true class, columns: predicted class)\n%6s", "");
    for (int j = 0; j < C; j++) printf(" %6d", j);
    printf("\n");
    for (int c = 0; c < C; c++) {
        printf("%6d", c);
        for (int j = 0; j < C; j++) printf(" %6lld", (long long)p->confusion[(size_t)c * C + j]);
        printf("\n");
    }
}

/* ---- pictures ---- */

/* --errors: the rows x cols of the images of data file `path` (their pixels: the columns
 * of /train/images): its image_shape attribute ((rows, cols), or (rows, cols, 1)), else the
 * square root of a square count. One process (rank 0). */
static NnStatus image_shape(const char *path, int *rows, int *cols, char err[NN_ERR_LEN])
{
    hid_t file = nn_h5_open_file(path, "dataset", err), images = H5I_INVALID_HID;
    if (file < 0) return NN_ERR;
    NnStatus status = NN_ERR;
    images = H5Dopen2(file, "/train/images", H5P_DEFAULT);
    if (images < 0) {
        nn_fail(err, "%s: cannot open dataset /train/images", path);
        goto done;
    }
    hid_t space = H5Dget_space(images);
    hsize_t dims[2];
    int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (rank == 2) H5Sget_simple_extent_dims(space, dims, NULL);
    if (space >= 0) H5Sclose(space);
    if (rank != 2) {
        nn_fail(err, "%s: /train/images is not a 2-D dataset (rows, features)", path);
        goto done;
    }
    const int64_t features = (int64_t)dims[1];
    int64_t shape[3] = {0, 0, 0};
    int n = 0;
    htri_t has = H5Aexists(images, "image_shape");
    if (has > 0) {
        if (nn_h5_attr_read_i64s(images, "image_shape", shape, 3, &n, err) != NN_OK) goto done;
        int fits = (n == 2 || (n == 3 && shape[2] == 1)) && shape[0] >= 1 && shape[1] >= 1 &&
                   shape[0] <= features && shape[1] <= features &&
                   shape[0] * shape[1] == features;
        if (!fits) {
            char text[96];
            int at = snprintf(text, sizeof text, "(%lld", (long long)shape[0]);
            for (int k = 1; k < n; k++)
                at += snprintf(text + at, sizeof text - (size_t)at, ", %lld", (long long)shape[k]);
            snprintf(text + at, sizeof text - (size_t)at, ")");
            nn_fail(err, "%s: /train/images has image_shape %s, which is not gray images of "
                         "its %lld features: --errors cannot draw them",
                    path, text, (long long)features);
            goto done;
        }
    } else {
        shape[0] = shape[1] = (int64_t)llround(sqrt((double)features));
        if (has < 0 || shape[0] * shape[1] != features) {
            nn_fail(err, "%s: --errors draws images, but its rows of %lld features have no "
                         "image_shape attribute (on /train/images) and are not a square of "
                         "pixels",
                    path, (long long)features);
            goto done;
        }
    }
    if (shape[0] > MAX_ERROR_SIDE || shape[1] > MAX_ERROR_SIDE) {
        nn_fail(err, "%s: images of %lldx%lld pixels: --errors draws images of up to %d pixels "
                     "a side",
                path, (long long)shape[0], (long long)shape[1], MAX_ERROR_SIDE);
        goto done;
    }
    *rows = (int)shape[0];
    *cols = (int)shape[1];
    status = NN_OK;
done:
    if (images >= 0) H5Dclose(images);
    H5Fclose(file);
    return status;
}

/* The label of a classification record. */
static int32_t record_label(const NnSamples *s, const uint8_t *record)
{
    const uint8_t *at = record + (size_t)s->features * (size_t)nn_feature_bytes(s->prep.type);
    int32_t label;
    if (s->label_bytes == 1) return *at;
    memcpy(&label, at, sizeof label);
    return label;
}

/* A misclassified row as gathered to rank 0: this head, then the row's stored features. */
typedef struct {
    int64_t row; /* position in the evaluated split */
    int32_t label, predicted;
} ErrorHead;

/* Collective. The first `max` misclassified rows of the split (in row order: the ranks'
 * shards follow one another) gathered to rank 0 into *items (n_items of them, each an
 * ErrorHead and the features; caller frees), and *total, the count of all of them, on every
 * rank. predicted: this rank's predictions (nn_evaluate). The status is agreed. */
static NnStatus gather_errors(MPI_Comm comm, const NnSamples *s, const int32_t *predicted,
                              int max, uint8_t **items, int *n_items, int64_t *total,
                              char err[NN_ERR_LEN])
{
    int rank, ranks;
    NN_MPI_CHECK(MPI_Comm_rank(comm, &rank));
    NN_MPI_CHECK(MPI_Comm_size(comm, &ranks));
    const int64_t rec = nn_samples_record_size(s);
    const size_t feature_bytes = (size_t)s->features * (size_t)nn_feature_bytes(s->prep.type);
    const size_t item = sizeof(ErrorHead) + feature_bytes;
    int64_t wrong = 0;
    for (int64_t i = 0; i < s->count; i++)
        wrong += predicted[i] != record_label(s, s->records + i * rec);
    int64_t *counts = malloc(sizeof *counts * (size_t)ranks);
    int *bytes = malloc(sizeof *bytes * (size_t)ranks), *offsets = malloc(sizeof *offsets * (size_t)ranks);
    uint8_t *mine = NULL;
    *items = NULL;
    NnStatus status = counts && bytes && offsets ? NN_OK : nn_fail(err, "out of memory");
    if ((status = nn_comm_agree(comm, status, err)) != NN_OK) goto done;
    NN_MPI_CHECK(MPI_Allgather(&wrong, 1, MPI_INT64_T, counts, 1, MPI_INT64_T, comm));
    /* Rank r sends its first take_r: what is left of max after the ranks before it. */
    int64_t before = 0, take = 0;
    *total = 0;
    int shown = 0, offset = 0;
    for (int r = 0; r < ranks; r++) {
        int64_t left = max - before > 0 ? max - before : 0;
        int64_t t = counts[r] < left ? counts[r] : left;
        if (r == rank) take = t;
        bytes[r] = (int)((size_t)t * item); /* <= 64 items of <= 1 MiB: fits an int */
        offsets[r] = offset;
        offset += bytes[r];
        shown += (int)t;
        before += counts[r];
    }
    *total = before;
    mine = malloc(take > 0 ? (size_t)take * item : 1);
    if (rank == 0) *items = malloc(shown > 0 ? (size_t)shown * item : 1);
    status = mine && (rank != 0 || *items) ? NN_OK
                                           : nn_fail(err, "out of memory for %d images", shown);
    if ((status = nn_comm_agree(comm, status, err)) != NN_OK) goto done;
    int64_t packed = 0;
    for (int64_t i = 0; i < s->count && packed < take; i++) {
        const uint8_t *record = s->records + i * rec;
        ErrorHead head = {.row = s->start + i, .label = record_label(s, record),
                          .predicted = predicted[i]};
        if (head.label == head.predicted) continue;
        memcpy(mine + packed * item, &head, sizeof head);
        memcpy(mine + packed * item + sizeof head, record, feature_bytes);
        packed++;
    }
    NN_MPI_CHECK(MPI_Gatherv(mine, bytes[rank], MPI_BYTE, *items, bytes, offsets, MPI_BYTE, 0,
                             comm));
    *n_items = shown;
done:
    if (status != NN_OK) {
        free(*items);
        *items = NULL;
    }
    free(mine);
    free(counts);
    free(bytes);
    free(offsets);
    return status;
}

/* Gray bytes of one gathered row's features: uint8 as stored; float32 stretched from its
 * smallest to its largest value (a constant row is black). */
static void row_to_gray(const NnSamples *s, const uint8_t *features, uint8_t *gray)
{
    const int F = s->features;
    if (s->prep.type == NN_FEATURES_UINT8) {
        memcpy(gray, features, (size_t)F);
        return;
    }
    float lo = INFINITY, hi = -INFINITY, v;
    for (int j = 0; j < F; j++) {
        memcpy(&v, features + 4 * (size_t)j, sizeof v);
        lo = fminf(lo, v);
        hi = fmaxf(hi, v);
    }
    for (int j = 0; j < F; j++) {
        memcpy(&v, features + 4 * (size_t)j, sizeof v);
        gray[j] = hi > lo ? (uint8_t)lrintf((v - lo) / (hi - lo) * 255.0f) : 0;
    }
}

/* Rank 0: the grid of gathered misclassified rows (or one empty cell saying there are none),
 * its tEXt Description listing them. */
static NnStatus draw_errors(const EvalArgs *args, const NnConfig *cfg, const NnSamples *s,
                            const uint8_t *items, int n, int64_t total, int rows, int cols,
                            char err[NN_ERR_LEN])
{
    const size_t features = (size_t)s->features, item =
        sizeof(ErrorHead) + features * (size_t)nn_feature_bytes(s->prep.type);
    NnGridTile *tiles = calloc(n > 0 ? (size_t)n : 1, sizeof *tiles);
    uint8_t *gray = malloc(features * (size_t)(n > 0 ? n : 1));
    size_t text_cap = 512 + (size_t)n * 40;
    char *text = malloc(text_cap);
    NnStatus status = NN_ERR;
    if (!tiles || !gray || !text) {
        nn_fail(err, "%s: out of memory", args->errors_png);
        goto done;
    }
    size_t used = (size_t)snprintf(text, text_cap,
                                   "nn-mpi eval --errors: the first %d of %lld misclassified "
                                   "rows of the %s split of %s by %s, in row order, left to "
                                   "right; per image: row true predicted",
                                   n, (long long)total, args->split, cfg->data_path,
                                   args->checkpoint);
    for (int i = 0; i < n; i++) {
        ErrorHead head;
        memcpy(&head, items + (size_t)i * item, sizeof head);
        tiles[i].gray = gray + (size_t)i * features;
        row_to_gray(s, items + (size_t)i * item + sizeof head, gray + (size_t)i * features);
        snprintf(tiles[i].caption[0], sizeof tiles[i].caption[0], "true %d", (int)head.label);
        snprintf(tiles[i].caption[1], sizeof tiles[i].caption[1], "pred %d", (int)head.predicted);
        if (used < text_cap)
            used += (size_t)snprintf(text + used, text_cap - used, "\n%lld %d %d",
                                     (long long)head.row, (int)head.label, (int)head.predicted);
    }
    if (n == 0) { /* nothing misclassified: one cell of the background's gray says so */
        snprintf(tiles[0].caption[0], sizeof tiles[0].caption[0], "no errors");
        memset(gray, 48, features);
        tiles[0].gray = gray;
    }
    status = nn_grid_write_png(args->errors_png, tiles, n > 0 ? n : 1, rows, cols, text, err);
done:
    free(tiles);
    free(gray);
    free(text);
    return status;
}

/* Rank 0: the heat map of the confusion matrix. */
static NnStatus draw_confusion(const EvalArgs *args, const int64_t *confusion, int C,
                               const NnEvalResult *r, char err[NN_ERR_LEN])
{
    char title[NN_PATH_LEN + 128];
    snprintf(title, sizeof title, "%s, %s split, %lld samples, accuracy %.2f%%",
             args->checkpoint, args->split, (long long)r->samples, 100.0 * r->accuracy);
    NnSvg svg;
    nn_plot_confusion(&svg, confusion, C, title);
    NnStatus status = nn_svg_save(&svg, args->confusion_svg, err);
    nn_svg_free(&svg);
    return status;
}

/* Everything after MPI_Init; returns the exit status. */
static int run_eval(MPI_Comm comm, const EvalArgs *args, char err[NN_ERR_LEN])
{
    int rank, ranks;
    NN_MPI_CHECK(MPI_Comm_rank(comm, &rank));
    NN_MPI_CHECK(MPI_Comm_size(comm, &ranks));
    NnCheckpoint ck;
    NnConfig cfg;
    NnSamples samples = {0};
    NnModel model = {0};
    int64_t *confusion = NULL;
    int32_t *predicted = NULL;
    uint8_t *errors = NULL;
    int code = NN_EXIT_FAILED, loaded = 0, image_rows = 0, image_cols = 0;
    /* Every rank validates the checkpoint itself (a small file); the ranks agree. */
    NnStatus status = nn_checkpoint_load(args->checkpoint, &ck, err);
    loaded = status == NN_OK;
    if (status == NN_OK) status = eval_config(&ck, args, &cfg, err);
    /* --errors on data that are not images is refused before any row is read. */
    if (status == NN_OK && args->errors_png && rank == 0)
        status = image_shape(cfg.data_path, &image_rows, &image_cols, err);
    if (nn_comm_agree(comm, status, err) != NN_OK) goto done;
    if (read_split(comm, &cfg, args->split, &samples, err) != NN_OK) goto done;
    status = check_fit(&ck, &cfg, &samples, err);
    int64_t chunk = cfg.reproducible ? cfg.chunk_size : 1;
    int rows_cap = (int)(chunk > NN_EVAL_ROWS ? chunk : NN_EVAL_ROWS);
    if (status == NN_OK) status = eval_model(&ck, rows_cap, &model, err);
    int C = samples.targets ? 0 : model.outputs;
    if (status == NN_OK && C == 0 && (args->confusion_svg || args->errors_png))
        status = nn_fail(err, "%s: %s is a regression model (loss %s): it has no classes to "
                              "draw",
                         args->confusion_svg ? "--confusion" : "--errors", args->checkpoint,
                         nn_loss_name(ck.model.loss));
    if (status == NN_OK && args->confusion_svg && C > MAX_DRAWN_CLASSES)
        status = nn_fail(err, "--confusion: the model has %d classes; the heat map draws up to "
                              "%d (--json has the whole matrix)",
                         C, MAX_DRAWN_CLASSES);
    if (status == NN_OK && C > 0 && C <= MAX_CONFUSION_CLASSES) {
        confusion = calloc((size_t)C * (size_t)C, sizeof *confusion);
        if (!confusion) status = nn_fail(err, "out of memory for a %d-class confusion matrix", C);
    }
    if (status == NN_OK && args->errors_png) {
        predicted = malloc(sizeof *predicted * (size_t)(samples.count > 0 ? samples.count : 1));
        if (!predicted)
            status = nn_fail(err, "out of memory for %lld predictions", (long long)samples.count);
    }
    if (nn_comm_agree(comm, status, err) != NN_OK) goto done;
    NnEvalOptions o = {.comm = comm,
                       .exact = cfg.reproducible,
                       .rows_per_call = cfg.reproducible ? chunk : rows_cap,
                       .limit = nn_evaluate_limit(samples.total, chunk),
                       .top_k = args->top_k > 0 ? args->top_k : C > 5 ? 5 : 0,
                       .confusion = confusion,
                       .predicted = predicted};
    if (C == 0) o.top_k = 0;
    if (samples.targets &&
        nn_evaluate_target_spread(comm, cfg.reproducible, &samples, &o.target_sst, err) != NN_OK)
        goto done;
    NnEvalResult r = nn_evaluate(&model, &samples, &o);
    int n_errors = 0;
    int64_t total_errors = 0;
    if (predicted && gather_errors(comm, &samples, predicted, MAX_ERROR_IMAGES, &errors,
                                   &n_errors, &total_errors, err) != NN_OK)
        goto done;
    if (rank == 0) {
        Report p = {.args = args, .cfg = &cfg, .ck = &ck, .r = &r, .confusion = confusion,
                    .classes = C, .targets = samples.targets, .top_k = o.top_k, .ranks = ranks};
        if (args->json)
            print_json(&p);
        else
            print_table(&p);
        if (args->confusion_svg) {
            status = draw_confusion(args, confusion, C, &r, err);
            if (status == NN_OK && !args->json)
                printf("wrote %s: the confusion matrix of %d classes\n", args->confusion_svg, C);
        }
        if (status == NN_OK && args->errors_png) {
            status = draw_errors(args, &cfg, &samples, errors, n_errors, total_errors,
                                 image_rows, image_cols, err);
            if (status == NN_OK && !args->json)
                printf("wrote %s: %d of %lld misclassified images\n", args->errors_png, n_errors,
                       (long long)total_errors);
        }
        fflush(stdout);
    }
    if (nn_comm_agree(comm, status, err) != NN_OK) goto done;
    code = 0;
done:
    free(errors);
    free(predicted);
    free(confusion);
    nn_model_free(&model);
    nn_samples_free(&samples);
    if (loaded) nn_checkpoint_free(&ck);
    return code;
}

int nn_cmd_eval(int argc, char **argv)
{
    char err[NN_ERR_LEN];
    EvalArgs args;
    NnStatus parsed = parse_args(argc, argv, &args, err);
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int code = 0;
    if (parsed != NN_OK) {
        if (rank == 0) fprintf(stderr, "rank 0: nn-mpi eval: %s\n", err);
        code = NN_EXIT_USAGE;
    } else if (args.help) {
        if (rank == 0) usage(stdout);
    } else {
        code = run_eval(MPI_COMM_WORLD, &args, err);
        if (code != 0 && rank == 0) fprintf(stderr, "%s\n", err); /* agreed: "rank R: ..." */
    }
    fflush(stdout);
    MPI_Finalize();
    return code;
}
