/* Fuzz target: checkpoint validation (nn_checkpoint_load_open) on an HDF5 file image held
 * in memory. What loads must be whole: every array the model and optimizer hold is read. */
#include <stdint.h>
#include <stdlib.h>

#include "nnmpi/nn_checkpoint.h"
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
    hid_t file = nn_h5_open_image(data, size, "fuzz-checkpoint.h5", err);
    if (file < 0) return 0;
    NnCheckpoint ck;
    if (nn_checkpoint_load_open(file, "fuzz-checkpoint.h5", &ck, err) == NN_OK) {
        volatile float sum = 0.0f;
        size_t n_state = nn_optim_state_floats(ck.optim.type, ck.model.n_params);
        for (size_t i = 0; i < ck.model.n_params; i++) sum += ck.model.params[i];
        for (size_t i = 0; i < n_state; i++) sum += ck.optim.state[i];
        (void)sum;
        nn_checkpoint_free(&ck);
    }
    H5Fclose(file);
    /* Every id the loader opened is closed again (else the file stays open too). */
    if (H5Fget_obj_count((hid_t)H5F_OBJ_ALL, H5F_OBJ_ALL) != 0) abort();
    return 0;
}
