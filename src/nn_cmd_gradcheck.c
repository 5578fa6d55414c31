/* nn-mpi gradcheck CONFIG [--set section.key=value ...] [--samples N] [--params K]
 *                         [--checkpoint CKPT] [--tolerance T]:
 * the tutorial's numerical gradient check on the network CONFIG describes, for users who
 * change the model: backpropagation on the first N training samples against central
 * differences in double precision (nn_gradcheck.h), reported per layer and per parameter
 * kind. One process (under mpirun, rank 0 works and the others wait). Exit status 0 when
 * every error is within the tolerance, 1 above it or on bad data, 2 on bad usage. */
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn_cli.h"
#include "nnmpi/nn_checkpoint.h"
#include "nnmpi/nn_config.h"
#include "nnmpi/nn_dataset.h"
#include "nnmpi/nn_gradcheck.h"
#include "nnmpi/nn_regularize.h"
#include "nnmpi/nn_trainer.h"

#define MAX_SETS 256

typedef struct {
    const char *config, *checkpoint;
    const char *sets[MAX_SETS];
    int n_sets, samples, params, help;
    double tolerance;
} GradArgs;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: nn-mpi gradcheck CONFIG [--set section.key=value ...] [--samples N]\n"
            "                        [--params K] [--checkpoint CKPT] [--tolerance T]\n"
            "Checks backpropagation on the network CONFIG describes against central-difference\n"
            "numerical gradients (h = %g) of the loss computed in double precision, on the\n"
            "first N training samples of its data (default 8), with the weights a run starts\n"
            "from (or CKPT's). In each layer's weights and biases it checks K parameters\n"
            "(default 20: the largest gradients first, then others drawn from the seed; all\n"
            "of them when there are fewer) and prints the largest relative error\n"
            "|backprop - numeric| / (%g + |numeric|). With [model] dropout the samples keep\n"
            "one fixed mask (the first epoch's); with [train] label_smoothing the loss is the\n"
            "smoothed one. Exit status 0 when every error is at most the tolerance (default\n"
            "%g), 1 above it or when the data cannot be read, 2 on bad usage.\n",
            NN_GRADCHECK_STEP, NN_GRADCHECK_FLOOR, NN_GRADCHECK_TOLERANCE);
}

/* A whole number in [1, max] or NN_ERR naming the option. */
static NnStatus parse_count(const char *option, const char *value, int max, int *out,
                            char err[NN_ERR_LEN])
{
    char *end;
    long v = strtol(value, &end, 10);
    if (*value == '\0' || *end != '\0' || v < 1 || v > max)
        return nn_fail(err, "%s %s: expected a whole number from 1 to %d", option, value, max);
    *out = (int)v;
    return NN_OK;
}

static NnStatus parse_args(int argc, char **argv, GradArgs *a, char err[NN_ERR_LEN])
{
    *a = (GradArgs){.samples = 8, .params = 20, .tolerance = NN_GRADCHECK_TOLERANCE};
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            a->help = 1;
            continue;
        }
        if (arg[0] != '-') {
            if (a->config) return nn_fail(err, "more than one config: %s and %s", a->config, arg);
            a->config = arg;
            continue;
        }
        if (i + 1 == argc) return nn_fail(err, "%s needs a value (see --help)", arg);
        const char *value = argv[++i];
        if (strcmp(arg, "--set") == 0) {
            if (a->n_sets == MAX_SETS) return nn_fail(err, "too many --set options");
            a->sets[a->n_sets++] = value;
        } else if (strcmp(arg, "--samples") == 0) {
            if (parse_count(arg, value, 4096, &a->samples, err) != NN_OK) return NN_ERR;
        } else if (strcmp(arg, "--params") == 0) {
            if (parse_count(arg, value, 1000000, &a->params, err) != NN_OK) return NN_ERR;
        } else if (strcmp(arg, "--checkpoint") == 0) {
            a->checkpoint = value;
        } else if (strcmp(arg, "--tolerance") == 0) {
            char *end;
            a->tolerance = strtod(value, &end);
            if (*value == '\0' || *end != '\0' || !(a->tolerance > 0) || !isfinite(a->tolerance))
                return nn_fail(err, "--tolerance %s: expected a positive number", value);
        } else {
            return nn_fail(err, "unknown option %s (see --help)", arg);
        }
    }
    if (!a->help && !a->config) return nn_fail(err, "no config file given (see --help)");
    return NN_OK;
}

/* The network cfg describes, for `outputs` outputs and `rows` rows, with the seed's initial
 * weights or the checkpoint's. */
static NnStatus build_model(const NnConfig *cfg, const GradArgs *a, int inputs, int outputs,
                            int rows, NnModel *m, char err[NN_ERR_LEN])
{
    if (nn_model_init(m, inputs, &cfg->hidden, outputs, cfg->activation, cfg->loss, rows,
                      err) != NN_OK)
        return NN_ERR;
    nn_model_init_weights(m, cfg->init, cfg->seed);
    if (!a->checkpoint) return NN_OK;
    NnCheckpoint ck;
    if (nn_checkpoint_load(a->checkpoint, &ck, err) != NN_OK) return NN_ERR;
    int same = ck.model.n_params == m->n_params && ck.model.n_layers == m->n_layers &&
               ck.model.activation == m->activation && ck.model.loss == m->loss;
    for (int l = 0; same && l < m->n_layers; l++)
        same = ck.model.layers[l].in == m->layers[l].in &&
               ck.model.layers[l].out == m->layers[l].out;
    if (same) memcpy(m->params, ck.model.params, sizeof(float) * m->n_params);
    nn_checkpoint_free(&ck);
    return same ? NN_OK
                : nn_fail(err, "%s: its model is not the network the config describes",
                          a->checkpoint);
}

static void print_report(const NnConfig *cfg, const NnModel *m, int rows,
                         const NnGradcheckPart *parts, double tolerance, double worst)
{
    printf("gradcheck: %d", m->inputs);
    for (int l = 0; l < m->n_layers; l++) printf("-%d", m->layers[l].out);
    printf(" %s/%s, %d samples of %s, central differences (h = %g) in double precision\n",
           nn_activation_name(m->activation), nn_loss_name(m->loss), rows, cfg->data_path,
           NN_GRADCHECK_STEP);
    if (m->mask_units || cfg->label_smoothing > 0.0) {
        char dropout[NN_PATH_LEN], err[NN_ERR_LEN];
        NnStatus status = nn_config_value(cfg, "model", "dropout", dropout, sizeof dropout, err);
        NN_ASSERT(status == NN_OK);
        printf("with dropout %s (the first epoch's masks) and label smoothing %g\n",
               m->mask_units ? dropout : "0", cfg->label_smoothing);
    }
    printf("%5s %-8s %8s %14s %14s %14s\n", "layer", "kind", "checked", "max rel error",
           "backprop", "numeric");
    for (int p = 0; p < 2 * m->n_layers; p++)
        printf("%5d %-8s %8zu %14.3e %14.6e %14.6e\n", parts[p].layer,
               parts[p].biases ? "biases" : "weights", parts[p].checked, parts[p].max_error,
               parts[p].backprop, parts[p].numeric);
    printf("worst %.3e %s tolerance %.3e: %s\n", worst, worst <= tolerance ? "<=" : ">",
           tolerance, worst <= tolerance ? "backprop agrees" : "BACKPROP DISAGREES");
}

/* Rank 0's work; returns the exit status. */
static int gradcheck(const GradArgs *a, char err[NN_ERR_LEN])
{
    NnConfig cfg;
    NnDataShape shape = {0};
    NnSamples samples = {0};
    NnModel model = {0};
    NnGradcheckPart parts[2 * NN_MAX_LAYERS];
    int32_t *ids = NULL;
    float *masks = NULL;
    int code = NN_EXIT_USAGE;
    NnStatus status = nn_config_load(a->config, &cfg, err);
    for (int i = 0; i < a->n_sets && status == NN_OK; i++)
        status = nn_config_set(&cfg, a->sets[i], err);
    if (status == NN_OK) status = nn_config_check(&cfg, err);
    if (status != NN_OK) goto done;
    code = NN_EXIT_FAILED;
    if (nn_dataset_probe(cfg.data_path, &shape, err) != NN_OK ||
        nn_trainer_check_task(&cfg, shape.targets, err) != NN_OK)
        goto done;
    int rows = shape.train_rows < a->samples ? (int)shape.train_rows : a->samples;
    if (nn_dataset_read(MPI_COMM_SELF, cfg.data_path, "train", rows, 1, &samples, err) != NN_OK)
        goto done;
    int outputs = shape.targets ? shape.targets : shape.classes;
    if (build_model(&cfg, a, samples.features, outputs, rows, &model, err) != NN_OK) goto done;
    int64_t rec = nn_samples_record_size(&samples);
    for (int i = 0; i < rows; i++)
        nn_record_decode(&samples, samples.records + i * rec,
                         model.input + (size_t)i * samples.features, &model.labels[i],
                         samples.targets ? model.targets + (size_t)i * samples.targets : NULL);
    NnTruth truth = nn_model_truth(&model);
    truth.smoothing = (float)cfg.label_smoothing;
    double rates[NN_MAX_HIDDEN];
    for (int l = 0; l < cfg.hidden.count; l++) rates[l] = nn_config_dropout(&cfg, l);
    if (nn_model_set_dropout(&model, rates, err) != NN_OK) goto done;
    if (model.mask_units) { /* samples 0..rows-1 of the training split, epoch 0 */
        ids = malloc(sizeof(int32_t) * (size_t)rows);
        masks = malloc(sizeof(float) * (size_t)rows * (size_t)model.mask_units);
        if (!ids || !masks) {
            nn_fail(err, "out of memory for dropout masks");
            goto done;
        }
        for (int i = 0; i < rows; i++) ids[i] = i;
        nn_dropout_masks(&model, cfg.seed, 0, ids, rows, masks);
    }
    if (nn_gradcheck_run(&model, model.input, masks, &truth, rows, (size_t)a->params,
                         (uint64_t)cfg.seed, parts, err) != NN_OK)
        goto done;
    double worst = 0.0;
    for (int p = 0; p < 2 * model.n_layers; p++)
        if (!(parts[p].max_error <= worst)) worst = parts[p].max_error; /* NaN counts */
    print_report(&cfg, &model, rows, parts, a->tolerance, worst);
    code = worst <= a->tolerance ? 0 : NN_EXIT_FAILED;
    if (code) snprintf(err, NN_ERR_LEN, "gradcheck: the largest error is above the tolerance");
done:
    free(ids);
    free(masks);
    nn_model_free(&model);
    nn_samples_free(&samples);
    nn_data_shape_free(&shape);
    return code;
}

int nn_cmd_gradcheck(int argc, char **argv)
{
    char err[NN_ERR_LEN];
    GradArgs args;
    NnStatus parsed = parse_args(argc, argv, &args, err);
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    int code = 0;
    if (rank == 0) {
        if (parsed != NN_OK) {
            fprintf(stderr, "nn-mpi gradcheck: %s\n", err);
            code = NN_EXIT_USAGE;
        } else if (args.help) {
            usage(stdout);
        } else {
            code = gradcheck(&args, err);
            if (code) fprintf(stderr, "%s\n", err);
        }
        fflush(stdout);
    }
    MPI_Bcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD);
    MPI_Finalize();
    return code;
}
