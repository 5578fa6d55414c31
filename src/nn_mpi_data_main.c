/* nn-mpi-data: converts the four IDX files of MNIST or Fashion-MNIST (raw or .gz) into the
 * nn-mpi dataset file (see nn_dataset.h).
 *   nn-mpi-data [--source NAME] DIR OUT.h5
 *   nn-mpi-data [--source NAME] TRAIN_IMAGES TRAIN_LABELS TEST_IMAGES TEST_LABELS OUT.h5
 * Exit status: 0 written; 1 bad input or write failure (OUT.h5 untouched); 2 bad usage (or
 * a bad NN_MPI_TEST_FAULT, nn_fault.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnmpi/nn_dataset.h"
#include "nnmpi/nn_fault.h"
#include "nnmpi/nn_h5.h"
#include "nnmpi/nn_idx.h"

static const char *const BASENAMES[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

static void usage(FILE *out)
{
    fprintf(out, "usage: nn-mpi-data [--source NAME] DIR OUT.h5\n"
                 "       nn-mpi-data [--source NAME] TRAIN_IMAGES TRAIN_LABELS TEST_IMAGES "
                 "TEST_LABELS OUT.h5\n"
                 "DIR holds %s, %s, %s and %s, each raw or gzipped (.gz).\n",
            BASENAMES[0], BASENAMES[1], BASENAMES[2], BASENAMES[3]);
}

/* DIR/NAME if it exists, else DIR/NAME.gz (the error then names the .gz). */
static void find_in_dir(const char *dir, const char *name, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", dir, name);
    if (access(path, F_OK) != 0) snprintf(path, size, "%s/%s.gz", dir, name);
}

int main(int argc, char **argv)
{
    char err[NN_ERR_LEN];
    if (nn_fault_configure(getenv(NN_FAULT_ENV), err) != NN_OK) {
        fprintf(stderr, "nn-mpi-data: %s\n", err);
        return 2;
    }
    const char *source = NULL, *positional[5];
    int n = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--source") == 0 && i + 1 < argc) {
            source = argv[++i];
        } else if (argv[i][0] == '-' || n == 5) {
            usage(stderr);
            return 2;
        } else {
            positional[n++] = argv[i];
        }
    }
    if (n != 2 && n != 5) {
        usage(stderr);
        return 2;
    }
    nn_h5_silence();
    char paths[4][4096];
    for (int f = 0; f < 4; f++) {
        if (n == 2)
            find_in_dir(positional[0], BASENAMES[f], paths[f], sizeof paths[f]);
        else
            snprintf(paths[f], sizeof paths[f], "%s", positional[f]);
    }
    const char *out = positional[n - 1];
    NnIdxArray arrays[4] = {{0}};
    const NnIdxLimits limits = {NN_DATASET_MAX_ROWS, NN_DATASET_MAX_FEATURES};
    NnStatus status = NN_OK;
    for (int f = 0; f < 4 && status == NN_OK; f++)
        status = f % 2 == 0 ? nn_idx_read_images(paths[f], &limits, &arrays[f], err)
                            : nn_idx_read_labels(paths[f], &limits, &arrays[f], err);
    char default_source[4200];
    snprintf(default_source, sizeof default_source, "IDX files from %s",
             n == 2 ? positional[0] : "the command line");
    if (status == NN_OK)
        status = nn_dataset_write(out, &arrays[0], &arrays[1], &arrays[2], &arrays[3],
                                  source ? source : default_source, err);
    if (status == NN_OK)
        printf("%s: %lld train and %lld test images of %dx%d\n", out, (long long)arrays[0].count,
               (long long)arrays[2].count, arrays[0].rows, arrays[0].cols);
    else
        fprintf(stderr, "nn-mpi-data: %s\n", err);
    for (int f = 0; f < 4; f++) nn_idx_free(&arrays[f]);
    return status == NN_OK ? 0 : 1;
}
