/* nn-mpi export CHECKPOINT -o FILE: writes a checkpoint's model (with its input
 * preprocessing) for use outside nn-mpi, in the format FILE's extension names: .onnx
 * (nn_export_onnx.h) or .npz (nn_export_npz.h). One process, no MPI. Exit status 0 when
 * FILE was written, 1 when the checkpoint is invalid or FILE cannot be written (FILE is
 * then untouched), 2 on bad usage (an unknown extension included). */
#include <stdio.h>
#include <string.h>

#include "nn_cli.h"
#include "nnmpi/nn_checkpoint.h"
#include "nnmpi/nn_export_npz.h"
#include "nnmpi/nn_export_onnx.h"

#define STRINGIFY(x) #x
#define TEXT_OF(x) STRINGIFY(x)

typedef struct {
    const char *extension;
    NnStatus (*write)(const NnCheckpoint *ck, const char *path, char err[NN_ERR_LEN]);
    const char *what; /* for the line that reports success */
} ExportFormat;

static const ExportFormat formats[] = {
    {".onnx", nn_export_onnx,
     "ONNX model (opset " TEXT_OF(NN_ONNX_OPSET) ", IR version " TEXT_OF(NN_ONNX_IR_VERSION) ")"},
    {".npz", nn_export_npz, "NumPy archive"},
    {NULL, NULL, NULL},
};

/* The format whose extension ends path (case-sensitive), or NULL. */
static const ExportFormat *format_of(const char *path)
{
    size_t n = strlen(path);
    for (const ExportFormat *f = formats; f->extension; f++) {
        size_t e = strlen(f->extension);
        if (n > e && strcmp(path + n - e, f->extension) == 0) return f;
    }
    return NULL;
}

/* ".onnx or .npz", from the table. */
static void extension_list(char *out, size_t size)
{
    int at = 0;
    for (const ExportFormat *f = formats; f->extension && at < (int)size; f++)
        at += snprintf(out + at, size - (size_t)at, "%s%s", f == formats ? ""
                                                   : f[1].extension ? ", " : " or ",
                       f->extension);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: nn-mpi export CHECKPOINT -o FILE\n"
            "Validates CHECKPOINT (as nn-mpi inspect does) and writes its model, with the input\n"
            "preprocessing it was trained with, to FILE in the format FILE's extension names:\n"
            "  .onnx  an ONNX model, opset " TEXT_OF(NN_ONNX_OPSET) " (IR version " TEXT_OF(
                NN_ONNX_IR_VERSION) "): input 'input' float32 (N, F) holding\n"
            "         the raw stored feature values, output 'output' (N, outputs): Mul by scale,\n"
            "         Sub mean and Div std when the checkpoint has them, then per layer Gemm and\n"
            "         the activation; softmax (cross_entropy), sigmoid (mse) or none\n"
            "         (squared_error) on the output layer\n"
            "  .npz   a NumPy archive: layer_L_weights (out, in), layer_L_biases, layer_sizes,\n"
            "         activation, loss, feature_type, run_id, scale, and mean and std when present\n"
            "FILE appears whole or not at all.\n"
            "Exit status: 0 written, 1 invalid checkpoint or write failure, 2 bad usage.\n");
}

int nn_cmd_export(int argc, char **argv)
{
    const char *ckpt = NULL, *out = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(argv[i], "-o") == 0 || strcmp(argv[i], "--output") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "nn-mpi export: %s needs a file name (see --help)\n", argv[i]);
                return NN_EXIT_USAGE;
            }
            if (out) {
                fprintf(stderr, "nn-mpi export: more than one output file given (see --help)\n");
                return NN_EXIT_USAGE;
            }
            out = argv[++i];
            continue;
        }
        if (argv[i][0] == '-' || ckpt) {
            fprintf(stderr, "nn-mpi export: unexpected argument %s (see --help)\n", argv[i]);
            return NN_EXIT_USAGE;
        }
        ckpt = argv[i];
    }
    if (!ckpt) {
        fprintf(stderr, "nn-mpi export: no checkpoint given (see --help)\n");
        return NN_EXIT_USAGE;
    }
    if (!out) {
        char list[64];
        extension_list(list, sizeof list);
        fprintf(stderr, "nn-mpi export: no output file given: -o FILE, FILE ending in %s "
                        "(see --help)\n", list);
        return NN_EXIT_USAGE;
    }
    const ExportFormat *format = format_of(out);
    if (!format) {
        char list[64];
        extension_list(list, sizeof list);
        fprintf(stderr, "nn-mpi export: %s: unknown output format: the file name must end in "
                        "%s\n", out, list);
        return NN_EXIT_USAGE;
    }

    NnCheckpoint ck;
    char err[NN_ERR_LEN];
    if (nn_checkpoint_load(ckpt, &ck, err) != NN_OK) {
        fprintf(stderr, "nn-mpi export: %s\n", err);
        return NN_EXIT_FAILED;
    }
    NnStatus status = format->write(&ck, out, err);
    if (status == NN_OK) {
        const NnModel *m = &ck.model;
        printf("wrote %s: %s of the %d", out, format->what, m->inputs);
        for (int l = 0; l < m->n_layers; l++) printf("-%d", m->layers[l].out);
        printf(" %s/%s model in %s\n", nn_activation_name(m->activation), nn_loss_name(m->loss),
               ckpt);
    } else {
        fprintf(stderr, "nn-mpi export: %s\n", err);
    }
    nn_checkpoint_free(&ck);
    return status == NN_OK ? 0 : NN_EXIT_FAILED;
}
