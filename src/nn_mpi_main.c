/* nn-mpi: data-parallel training of a feed-forward network over MPI ranks, and the tools
 * that use what it trains. The first argument names the subcommand (nn_cli.h):
 *   nn-mpi train CONFIG ...      (nn-mpi CONFIG ... is the same)
 *   nn-mpi inspect CHECKPOINT    (nn-mpi --inspect CHECKPOINT is the same)
 *   nn-mpi eval CHECKPOINT ...
 *   nn-mpi gradcheck CONFIG ...
 *   nn-mpi export CHECKPOINT -o FILE.onnx|FILE.npz
 *   nn-mpi predict CHECKPOINT INPUT... -o OUT.csv
 *   nn-mpi plot RUN... -o FILE.svg
 * and nn-mpi --help lists them all. */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn_cli.h"
#include "nnmpi/nn_fault.h"
#include "nnmpi/nn_h5.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *args;    /* for the overview */
    const char *summary;
} Command;

static const Command commands[] = {
    {"train", nn_cmd_train, "CONFIG [--set k=v ...] [--resume CKPT|auto]", "train a network"},
    {"inspect", nn_cmd_inspect, "CHECKPOINT", "validate a checkpoint and describe it"},
    {"eval", nn_cmd_eval, "CHECKPOINT [--split S] [--data FILE] [--json]",
     "loss, accuracy, per-class scores, confusion matrix"},
    {"export", nn_cmd_export, "CHECKPOINT -o FILE.onnx|FILE.npz", "write the model for inference"},
    {"predict", nn_cmd_predict, "CKPT INPUT... -o OUT.csv [--top K]", "apply a model to rows"},
    {"gradcheck", nn_cmd_gradcheck, "CONFIG [--set k=v ...] [--samples N]",
     "check backprop against numerical gradients"},
    {"plot", nn_cmd_plot, "RUN... -o FILE.svg", "loss and accuracy per epoch of runs"},
    {NULL, NULL, NULL, NULL},
};

void nn_cli_overview(FILE *out)
{
    fprintf(out, "usage: nn-mpi COMMAND [ARGS]   (nn-mpi COMMAND --help for each)\n");
    for (const Command *c = commands; c->name; c++) {
        char line[128];
        snprintf(line, sizeof line, "nn-mpi %s %s", c->name, c->args);
        fprintf(out, "  %-58s %s\n", line, c->summary);
    }
    fprintf(out, "nn-mpi CONFIG ... is nn-mpi train CONFIG ..., and nn-mpi --inspect CHECKPOINT is\n"
                 "nn-mpi inspect CHECKPOINT.\n\n");
}

/* OpenBLAS 0.3.21 does not recognise some newer x86 CPUs and then falls back to its
 * slowest kernels (Prescott: SSE3), which makes training 2-3 times slower. It reads
 * OPENBLAS_CORETYPE only when it loads, so when it made that choice and the user chose no
 * core type, restart once with the core type the CPU's features allow. */
static void choose_blas_kernels(char **argv)
{
#if defined(__x86_64__)
    if (getenv("OPENBLAS_CORETYPE")) return;
    const char *name = openblas_get_corename();
    if (!name || (strcmp(name, "Prescott") != 0 && strcmp(name, "prescott") != 0)) return;
    __builtin_cpu_init();
    const char *core = __builtin_cpu_supports("avx512f") ? "SkylakeX"
                       : __builtin_cpu_supports("avx2") ? "Haswell"
                                                        : NULL;
    if (!core || setenv("OPENBLAS_CORETYPE", core, 1) != 0) return;
    execv("/proc/self/exe", argv); /* returns only on failure: keep the slow kernels */
    unsetenv("OPENBLAS_CORETYPE");
#else
    (void)argv;
#endif
}

int main(int argc, char **argv)
{
    choose_blas_kernels(argv);
    char err[NN_ERR_LEN];
    if (nn_fault_configure(getenv(NN_FAULT_ENV), err) != NN_OK) {
        fprintf(stderr, "nn-mpi: %s\n", err); /* every rank: no MPI yet */
        return NN_EXIT_USAGE;
    }
    nn_h5_silence();
    if (argc >= 2) {
        for (const Command *c = commands; c->name; c++)
            if (strcmp(argv[1], c->name) == 0) return c->run(argc - 1, argv + 1);
        if (strcmp(argv[1], "--inspect") == 0) return nn_cmd_inspect(argc - 1, argv + 1);
    }
    return nn_cmd_train(argc, argv); /* nn-mpi CONFIG ..., --help, --version */
}
