/* nn-mpi predict CHECKPOINT INPUT... -o OUT.csv [--top K] [--split NAME] [--labels IDX]
 *                [--header | --no-header]
 * Applies a checkpoint's model to rows of features (nn_input.h: a dataset split, IDX
 * images, CSV, .npy, or PNG/PGM images) and writes one CSV row per input row: the predicted
 * class and the class probabilities, the K best classes, or a regression's values. One
 * process, no MPI. The rows go through the checkpoint's preprocessing (nn_preprocess_apply)
 * and the forward pass NN_INPUT_BLOCK at a time, so memory does not grow with the input.
 * OUT appears whole or not at all: the rows go to a temporary file beside it that is
 * renamed into place once every row is written (nn_atomic_commit); with -o -, to an
 * unlinked temporary file that is copied to stdout at the end.
 * Exit status: 0 written, 1 bad input or checkpoint (message on stderr, no OUT), 2 usage. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn_cli.h"
#include "nnmpi/nn_atomic_file.h"
#include "nnmpi/nn_checkpoint.h"
#include "nnmpi/nn_input.h"

#define PROG "nn-mpi predict"

typedef struct {
    const char *checkpoint;
    const char **inputs; /* n_inputs paths, views into argv */
    int n_inputs;
    const char *out;
    int top;           /* K best classes; 0: every class */
    const char *split; /* NULL: test */
    const char *labels;
    int csv_header;    /* -1 detect */
    int help;
} Args;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: nn-mpi predict CHECKPOINT INPUT... -o OUT.csv [--top K]\n"
            "                      [--split test|validation|train] [--labels IDX_LABELS]\n"
            "                      [--header | --no-header]\n"
            "Applies the model of CHECKPOINT to every row of INPUT, with the checkpoint's input\n"
            "preprocessing, and writes one CSV row per input row (-o - writes to stdout).\n"
            "INPUT is one of: an nn-mpi dataset file (its test split, or --split); IDX images\n"
            "(raw or .gz; --labels adds their IDX labels); a CSV of feature rows (*.csv; a\n"
            "header row is detected, or say --header / --no-header); a .npy array (N, F) of\n"
            "any numeric dtype; or one or more PNG or PGM images of exactly the model's input\n"
            "count of 8-bit gray pixels (colour PNGs are converted to gray, 16-bit to 8).\n"
            "Columns: row (the row number from 0; file for images), predicted, p0..p{C-1}\n"
            "(softmax probabilities; score0.. for an mse model's sigmoid outputs), label when\n"
            "the input has labels. --top K: row, top1, p1, ..., topK, pK instead. A regression\n"
            "model (loss squared_error): row, y0..y{T-1}. Floats are printed with %%.9g.\n"
            "OUT appears whole or not at all. Exit status: 0 written, 1 bad input or\n"
            "checkpoint, 2 bad usage.\n");
}

/* Parses the command line; NN_ERR with err set on bad usage. */
static NnStatus parse_args(int argc, char **argv, Args *a, char err[NN_ERR_LEN])
{
    memset(a, 0, sizeof *a);
    a->csv_header = -1;
    a->inputs = calloc((size_t)argc, sizeof *a->inputs);
    if (!a->inputs) return nn_fail(err, "out of memory");
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            a->help = 1;
        } else if (strcmp(arg, "--header") == 0 || strcmp(arg, "--no-header") == 0) {
            a->csv_header = arg[2] == 'h';
        } else if (strcmp(arg, "-o") == 0 || strcmp(arg, "--top") == 0 ||
                   strcmp(arg, "--split") == 0 || strcmp(arg, "--labels") == 0) {
            if (i + 1 == argc) return nn_fail(err, "%s needs a value", arg);
            const char *value = argv[++i];
            if (strcmp(arg, "-o") == 0) {
                a->out = value;
            } else if (strcmp(arg, "--labels") == 0) {
                a->labels = value;
            } else if (strcmp(arg, "--split") == 0) {
                if (strcmp(value, "test") != 0 && strcmp(value, "validation") != 0 &&
                    strcmp(value, "train") != 0)
                    return nn_fail(err, "--split %s: expected test, validation or train", value);
                a->split = value;
            } else {
                char *end = NULL;
                errno = 0;
                long k = strtol(value, &end, 10);
                if (!*value || *end || errno || k < 1 || k > (1L << 24))
                    return nn_fail(err, "--top %s: expected a number of classes >= 1", value);
                a->top = (int)k;
            }
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return nn_fail(err, "unknown option %s", arg);
        } else if (!a->checkpoint) {
            a->checkpoint = arg;
        } else {
            a->inputs[a->n_inputs++] = arg;
        }
    }
    if (a->help) return NN_OK;
    if (!a->checkpoint || a->n_inputs == 0) return nn_fail(err, "a checkpoint and an input are needed");
    if (!a->out) return nn_fail(err, "no output file given (-o OUT.csv, or -o - for stdout)");
    return NN_OK;
}

/* ---- The output file ---- */

typedef struct {
    FILE *file;
    const char *path; /* the final name, or "-" */
    char temp[4096];  /* the temporary name ("" for stdout's unlinked file) */
} Output;

static NnStatus output_open(Output *o, const char *path, char err[NN_ERR_LEN])
{
    memset(o, 0, sizeof *o);
    o->path = path;
    if (strcmp(path, "-") == 0) {
        o->file = tmpfile();
        if (!o->file) return nn_fail(err, "cannot create a temporary file: %s", strerror(errno));
    } else {
        nn_atomic_temp_name(path, o->temp, sizeof o->temp);
        o->file = fopen(o->temp, "w");
        if (!o->file) return nn_fail(err, "%s: cannot create: %s", o->temp, strerror(errno));
    }
    setvbuf(o->file, NULL, _IOFBF, 1 << 20);
    return NN_OK;
}

/* Removes what output_open made. */
static void output_abort(Output *o)
{
    if (o->file) fclose(o->file);
    if (o->temp[0]) unlink(o->temp);
    o->file = NULL;
}

/* Puts the output in place: renamed to its name, or copied to stdout. */
static NnStatus output_commit(Output *o, char err[NN_ERR_LEN])
{
    const char *name = o->temp[0] ? o->temp : "the temporary file";
    if (fflush(o->file) != 0 || ferror(o->file)) {
        nn_fail(err, "%s: cannot write: %s", name, strerror(errno));
        output_abort(o);
        return NN_ERR;
    }
    if (!o->temp[0]) { /* stdout */
        rewind(o->file);
        char buf[1 << 16];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, o->file)) > 0)
            if (fwrite(buf, 1, n, stdout) != n) break;
        int failed = ferror(o->file) || ferror(stdout) || fflush(stdout) != 0;
        int saved = errno;
        output_abort(o);
        return failed ? nn_fail(err, "cannot write to stdout: %s", strerror(saved)) : NN_OK;
    }
    int closed = fclose(o->file);
    o->file = NULL;
    if (closed != 0) {
        nn_fail(err, "%s: cannot write: %s", o->temp, strerror(errno));
        unlink(o->temp);
        return NN_ERR;
    }
    NnStatus status = nn_atomic_commit(o->temp, o->path, err); /* removes it on failure */
    o->temp[0] = '\0';
    return status;
}

/* ---- The predictor: the sink of nn_input_read ---- */

/* What the output layer holds, by the model's loss. */
typedef enum { OUT_PROBABILITIES, OUT_SCORES, OUT_VALUES } OutputKind;

static OutputKind output_kind(NnLoss loss)
{
    switch (loss) {
    case NN_LOSS_CROSS_ENTROPY: return OUT_PROBABILITIES; /* softmax */
    case NN_LOSS_MSE: return OUT_SCORES;                  /* sigmoid, one per class */
    case NN_LOSS_SQUARED_ERROR: return OUT_VALUES;        /* linear: regression targets */
    }
    NN_ASSERT(!"unknown loss");
    return OUT_VALUES;
}

/* Column name prefix of the output values. */
static const char *value_prefix(OutputKind kind)
{
    return kind == OUT_PROBABILITIES ? "p" : kind == OUT_SCORES ? "score" : "y";
}

typedef struct {
    NnModel model; /* the checkpoint's weights, room for NN_INPUT_BLOCK rows */
    const NnPreprocess *prep;
    OutputKind kind;
    int top;          /* K, or 0: every output */
    int by_name;      /* image inputs: the first column is the file, not the row */
    const char *name; /* the current input's path, for by_name */
    FILE *out;
    int header_done;
    int has_labels;   /* the header has a label column */
    int *order;       /* (outputs): scratch for the K best */
    int64_t rows;     /* rows written */
} Predictor;

/* Writes s as one CSV field (RFC 4180: quoted when it holds a comma, quote or line end). */
static void put_csv_text(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    putc('"', out);
    for (; *s; s++) {
        if (*s == '"') putc('"', out);
        putc(*s, out);
    }
    putc('"', out);
}

static void write_header(Predictor *p, int has_labels)
{
    const char *v = value_prefix(p->kind);
    FILE *out = p->out;
    fputs(p->by_name ? "file" : "row", out);
    if (p->kind == OUT_VALUES) {
        for (int j = 0; j < p->model.outputs; j++) fprintf(out, ",%s%d", v, j);
    } else if (p->top > 0) {
        for (int k = 1; k <= p->top; k++) fprintf(out, ",top%d,%s%d", k, v, k);
    } else {
        fputs(",predicted", out);
        for (int j = 0; j < p->model.outputs; j++) fprintf(out, ",%s%d", v, j);
    }
    if (has_labels) fputs(",label", out);
    putc('\n', out);
    p->has_labels = has_labels;
    p->header_done = 1;
}

/* The K best outputs of a:(outputs) into order[0..K), best first; ties go to the lower
 * class, as nn_argmax and numpy's argsort(-a, kind="stable") do. */
static void best_k(const float *a, int outputs, int k, int *order)
{
    for (int j = 0; j < outputs; j++) order[j] = j;
    for (int i = 0; i < k; i++) {
        int best = i;
        for (int j = i + 1; j < outputs; j++)
            if (a[order[j]] > a[order[best]] ||
                (a[order[j]] == a[order[best]] && order[j] < order[best]))
                best = j;
        int t = order[i];
        order[i] = order[best];
        order[best] = t;
    }
}

static void write_row(Predictor *p, const NnInputBlock *block, int i, const float *a)
{
    FILE *out = p->out;
    const int C = p->model.outputs;
    if (p->by_name)
        put_csv_text(out, p->name);
    else
        fprintf(out, "%lld", (long long)(block->first + i));
    if (p->kind == OUT_VALUES) {
        for (int j = 0; j < C; j++) fprintf(out, ",%.9g", (double)a[j]);
    } else if (p->top > 0) {
        best_k(a, C, p->top, p->order);
        for (int k = 0; k < p->top; k++)
            fprintf(out, ",%d,%.9g", p->order[k], (double)a[p->order[k]]);
    } else {
        fprintf(out, ",%d", nn_argmax(a, C));
        for (int j = 0; j < C; j++) fprintf(out, ",%.9g", (double)a[j]);
    }
    if (p->has_labels) fprintf(out, ",%lld", (long long)block->labels[i]);
    putc('\n', out);
}

/* NnInputSink: preprocesses the block's rows, runs the forward pass, writes the rows. */
static NnStatus predict_block(void *ctx, const NnInputBlock *block, char err[NN_ERR_LEN])
{
    Predictor *p = ctx;
    NnModel *m = &p->model;
    NN_ASSERT(block->count >= 1 && block->count <= m->rows_cap);
    if (!p->header_done) write_header(p, block->labels != NULL);
    NN_ASSERT(p->has_labels == (block->labels != NULL)); /* one input has labels, alone */
    const size_t stride = (size_t)m->inputs * (size_t)nn_feature_bytes(p->prep->type);
    /* stored:(count, F) -> x:(count, F) -> outputs:(count, C) */
    for (int i = 0; i < block->count; i++)
        nn_preprocess_apply(p->prep, block->rows + (size_t)i * stride,
                            m->input + (size_t)i * m->inputs);
    nn_model_forward(m, m->input, NULL, NULL, block->count, NULL);
    const float *act = m->layers[m->n_layers - 1].act;
    for (int i = 0; i < block->count; i++)
        write_row(p, block, i, act + (size_t)i * m->outputs);
    p->rows += block->count;
    if (ferror(p->out)) return nn_fail(err, "cannot write the output: %s", strerror(errno));
    return NN_OK;
}

/* The checkpoint's model with room for NN_INPUT_BLOCK rows (a loaded one has room for 1). */
static NnStatus model_for_blocks(const NnModel *from, NnModel *m, char err[NN_ERR_LEN])
{
    NnIntList hidden = {.count = from->n_layers - 1};
    for (int l = 0; l < hidden.count; l++) hidden.values[l] = from->layers[l].out;
    if (nn_model_init(m, from->inputs, &hidden, from->outputs, from->activation, from->loss,
                      NN_INPUT_BLOCK, err) != NN_OK)
        return NN_ERR;
    NN_ASSERT(m->n_params == from->n_params);
    memcpy(m->params, from->params, sizeof(float) * from->n_params);
    return NN_OK;
}

/* Options that only some inputs take, against the inputs' kinds; NN_ERR (usage) when one
 * does not apply. */
static NnStatus check_kinds(const Args *a, const NnInputKind *kinds, OutputKind out,
                            char err[NN_ERR_LEN])
{
    int images = 0;
    for (int i = 0; i < a->n_inputs; i++)
        images += kinds[i] == NN_INPUT_PNG || kinds[i] == NN_INPUT_PGM;
    if (a->n_inputs > 1 && images < a->n_inputs)
        return nn_fail(err, "several inputs must all be PNG or PGM images; %s is %s",
                       a->inputs[0], nn_input_kind_name(kinds[0]));
    if (a->split && kinds[0] != NN_INPUT_DATASET)
        return nn_fail(err, "--split applies to dataset files; %s is %s", a->inputs[0],
                       nn_input_kind_name(kinds[0]));
    if (a->labels && kinds[0] != NN_INPUT_IDX)
        return nn_fail(err, "--labels applies to IDX images; %s is %s", a->inputs[0],
                       nn_input_kind_name(kinds[0]));
    if (a->labels && out == OUT_VALUES)
        return nn_fail(err, "--labels: a regression model has no classes to compare with");
    if (a->csv_header >= 0 && kinds[0] != NN_INPUT_CSV)
        return nn_fail(err, "--header and --no-header apply to CSV; %s is %s", a->inputs[0],
                       nn_input_kind_name(kinds[0]));
    return NN_OK;
}

/* Tells on stderr when a dataset states another preprocessing than the model's: its stored
 * values still go through the model's, as training did with its own data. */
static NnStatus note_dataset_preprocess(const char *path, const char *split,
                                        const NnPreprocess *model_prep, char err[NN_ERR_LEN])
{
    NnPreprocess stated;
    if (nn_input_dataset_preprocess(path, split, &stated, err) != NN_OK) return NN_ERR;
    if (stated.features == model_prep->features && !nn_preprocess_equal(&stated, model_prep)) {
        char theirs[256], ours[256];
        nn_preprocess_describe(&stated, theirs, sizeof theirs);
        nn_preprocess_describe(model_prep, ours, sizeof ours);
        fprintf(stderr, PROG ": note: %s states the input preprocessing %s; the model's, %s, is "
                             "applied to its stored values\n",
                path, theirs, ours);
    }
    nn_preprocess_free(&stated);
    return NN_OK;
}

/* Everything after the arguments; returns the exit status. */
static int predict(const Args *a)
{
    char err[NN_ERR_LEN];
    NnCheckpoint ck;
    Predictor p = {.top = a->top, .by_name = 0};
    Output out = {0};
    NnInputKind *kinds = NULL;
    int status = NN_EXIT_FAILED;
    if (nn_checkpoint_load(a->checkpoint, &ck, err) != NN_OK) {
        fprintf(stderr, PROG ": %s\n", err);
        return NN_EXIT_FAILED;
    }
    p.kind = output_kind(ck.model.loss);
    p.prep = &ck.prep;
    if (p.kind == OUT_VALUES && a->top > 0) {
        fprintf(stderr, PROG ": --top: %s is a regression model (loss %s): its outputs are "
                             "values, not classes\n",
                a->checkpoint, nn_loss_name(ck.model.loss));
        status = NN_EXIT_USAGE;
        goto done;
    }
    if (a->top > ck.model.outputs) {
        fprintf(stderr, PROG ": --top %d: the model has %d classes\n", a->top, ck.model.outputs);
        status = NN_EXIT_USAGE;
        goto done;
    }
    kinds = calloc((size_t)a->n_inputs, sizeof *kinds);
    if (!kinds) {
        fprintf(stderr, PROG ": out of memory\n");
        goto done;
    }
    for (int i = 0; i < a->n_inputs; i++)
        if (nn_input_detect(a->inputs[i], &kinds[i], err) != NN_OK) {
            fprintf(stderr, PROG ": %s\n", err);
            goto done;
        }
    if (check_kinds(a, kinds, p.kind, err) != NN_OK) {
        fprintf(stderr, PROG ": %s (see --help)\n", err);
        status = NN_EXIT_USAGE;
        goto done;
    }
    const char *split = a->split ? a->split : "test";
    if (kinds[0] == NN_INPUT_DATASET &&
        note_dataset_preprocess(a->inputs[0], split, &ck.prep, err) != NN_OK) {
        fprintf(stderr, PROG ": %s\n", err);
        goto done;
    }
    p.by_name = kinds[0] == NN_INPUT_PNG || kinds[0] == NN_INPUT_PGM;
    p.order = malloc(sizeof *p.order * (size_t)ck.model.outputs);
    if (!p.order) {
        fprintf(stderr, PROG ": out of memory\n");
        goto done;
    }
    if (model_for_blocks(&ck.model, &p.model, err) != NN_OK ||
        output_open(&out, a->out, err) != NN_OK) {
        fprintf(stderr, PROG ": %s\n", err);
        goto done;
    }
    p.out = out.file;
    NnInputSpec spec = {.features = ck.model.inputs, .type = ck.prep.type, .split = split,
                        .csv_header = a->csv_header, .idx_labels = a->labels,
                        .want_labels = p.kind != OUT_VALUES};
    for (int i = 0; i < a->n_inputs; i++) {
        p.name = a->inputs[i];
        if (nn_input_read(a->inputs[i], kinds[i], &spec, predict_block, &p, err) != NN_OK) {
            fprintf(stderr, PROG ": %s\n", err);
            goto done;
        }
    }
    if (output_commit(&out, err) != NN_OK) {
        fprintf(stderr, PROG ": %s\n", err);
        goto done;
    }
    if (strcmp(a->out, "-") != 0) printf("%lld rows to %s\n", (long long)p.rows, a->out);
    status = 0;
done:
    output_abort(&out); /* after a commit, nothing is left to remove */
    free(kinds);
    free(p.order);
    nn_model_free(&p.model);
    nn_checkpoint_free(&ck);
    return status;
}

int nn_cmd_predict(int argc, char **argv)
{
    char err[NN_ERR_LEN];
    Args a;
    if (parse_args(argc, argv, &a, err) != NN_OK) {
        fprintf(stderr, PROG ": %s (see --help)\n", err);
        free(a.inputs);
        return NN_EXIT_USAGE;
    }
    int status = 0;
    if (a.help)
        usage(stdout);
    else
        status = predict(&a);
    free(a.inputs);
    return status;
}
