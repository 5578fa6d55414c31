/* nn-mpi eval CHECKPOINT [--data FILE] [--split test|validation|train] [--top-k K] [--json]:
 * the checkpoint's loss and accuracy (or regression errors) on a split of its dataset (or
 * of FILE), with per-class precision, recall, F1 and support and the confusion matrix. It
 * runs as one process or under mpirun: each rank evaluates its shard with nn_evaluate, as
 * training does, so on the run's own data and split it reports the logged test loss and
 * accuracy (the same bits in reproducible mode). Exit status 0, 1 (a damaged checkpoint,
 * unreadable or mismatched data), 2 (bad usage). */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_cli.h"
#include "nnmpi/nn_checkpoint.h"
#include "nnmpi/nn_comm.h"
#include "nnmpi/nn_evaluate.h"
#include "nnmpi/nn_splits.h"
#include "nnmpi/nn_trainer.h"

/* Classes up to which the confusion matrix is counted (8 MiB of counts). */
#define MAX_CONFUSION_CLASSES 1024
/* Classes up to which the table shows the confusion matrix (JSON always has it). */
#define MAX_PRINTED_CLASSES 20

typedef struct {
    const char *checkpoint, *data, *split;
    int top_k, json, help;
} EvalArgs;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: nn-mpi eval CHECKPOINT [--data FILE] [--split test|validation|train]\n"
            "                   [--top-k K] [--json]\n"
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
            "Exit status: 0 done, 1 a damaged checkpoint or unreadable or mismatched data,\n"
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
    int code = NN_EXIT_FAILED, loaded = 0;
    /* Every rank validates the checkpoint itself (a small file); the ranks agree. */
    NnStatus status = nn_checkpoint_load(args->checkpoint, &ck, err);
    loaded = status == NN_OK;
    if (status == NN_OK) status = eval_config(&ck, args, &cfg, err);
    if (nn_comm_agree(comm, status, err) != NN_OK) goto done;
    if (read_split(comm, &cfg, args->split, &samples, err) != NN_OK) goto done;
    status = check_fit(&ck, &cfg, &samples, err);
    int64_t chunk = cfg.reproducible ? cfg.chunk_size : 1;
    int rows_cap = (int)(chunk > NN_EVAL_ROWS ? chunk : NN_EVAL_ROWS);
    if (status == NN_OK) status = eval_model(&ck, rows_cap, &model, err);
    int C = samples.targets ? 0 : model.outputs;
    if (status == NN_OK && C > 0 && C <= MAX_CONFUSION_CLASSES) {
        confusion = calloc((size_t)C * (size_t)C, sizeof *confusion);
        if (!confusion) status = nn_fail(err, "out of memory for a %d-class confusion matrix", C);
    }
    if (nn_comm_agree(comm, status, err) != NN_OK) goto done;
    NnEvalOptions o = {.comm = comm,
                       .exact = cfg.reproducible,
                       .rows_per_call = cfg.reproducible ? chunk : rows_cap,
                       .limit = nn_evaluate_limit(samples.total, chunk),
                       .top_k = args->top_k > 0 ? args->top_k : C > 5 ? 5 : 0,
                       .confusion = confusion};
    if (C == 0) o.top_k = 0;
    if (samples.targets &&
        nn_evaluate_target_spread(comm, cfg.reproducible, &samples, &o.target_sst, err) != NN_OK)
        goto done;
    NnEvalResult r = nn_evaluate(&model, &samples, &o);
    if (rank == 0) {
        Report p = {.args = args, .cfg = &cfg, .ck = &ck, .r = &r, .confusion = confusion,
                    .classes = C, .targets = samples.targets, .top_k = o.top_k, .ranks = ranks};
        if (args->json)
            print_json(&p);
        else
            print_table(&p);
        fflush(stdout);
    }
    code = 0;
done:
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
