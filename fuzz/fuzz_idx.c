/* Fuzz target: the IDX reader (nn_idx.h), raw and gzipped.
 * Input: one byte choosing images (even) or labels (odd), then the file's bytes. The file
 * is an anonymous memory file (memfd) read through its /proc/self/fd path, so the reader
 * runs exactly as on disk. Limits are the converter's. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "nnmpi/nn_dataset.h"
#include "nnmpi/nn_idx.h"

static int fd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    if (fd < 0) {
        fd = memfd_create("fuzz-idx", 0);
        if (fd < 0) abort();
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    }
    if (ftruncate(fd, 0) != 0 || pwrite(fd, data + 1, size - 1, 0) != (ssize_t)(size - 1))
        abort();
    const NnIdxLimits limits = {NN_DATASET_MAX_ROWS, NN_DATASET_MAX_FEATURES};
    NnIdxArray a;
    char err[NN_ERR_LEN];
    NnStatus status = data[0] % 2 == 0 ? nn_idx_read_images(path, &limits, &a, err)
                                       : nn_idx_read_labels(path, &limits, &a, err);
    if (status == NN_OK) {
        /* What the reader promises: a whole, non-empty array within the limits. */
        if (a.count < 1 || a.rows < 1 || a.cols < 1 || !a.data) abort();
        volatile uint8_t last = a.data[a.count * a.rows * a.cols - 1];
        (void)last;
        nn_idx_free(&a);
    }
    return 0;
}
