/* Fuzz target: the dataset probe (nn_dataset_probe_open) on an HDF5 file image held in
 * memory: what nn-mpi checks of a dataset before any rank reads its rows. */
#include <stdint.h>
#include <stdlib.h>

#include "nnmpi/nn_dataset.h"
#include "nnmpi/nn_h5.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    nn_h5_silence();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[NN_ERR_LEN];
    hid_t file = nn_h5_open_image(data, size, "fuzz-dataset.h5", err);
    if (file < 0) return 0;
    NnDataShape shape;
    if (nn_dataset_probe_open(file, "fuzz-dataset.h5", &shape, err) == NN_OK) {
        /* What the probe promises. */
        if (shape.train_rows < 0 || shape.features < 0 || shape.classes < 2 ||
            shape.classes > NN_DATASET_MAX_CLASSES)
            abort();
        nn_data_shape_free(&shape);
    }
    H5Fclose(file);
    /* Every id the loader opened is closed again (else the file stays open too). */
    if (H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL) != 0) abort();
    return 0;
}
