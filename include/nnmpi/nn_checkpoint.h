/* Checkpoint files (HDF5, written by rank 0, readable by h5dump and h5py):
 *   /                 attributes format = "nn-mpi checkpoint", format_version, nn_mpi_version,
 *                     nranks (ranks that wrote it), config (the full INI text of the run)
 *   /model            attributes layer_sizes (inputs, hidden..., outputs), activation, loss
 *   /model/layer_L/weights (out, in) float32, /model/layer_L/biases (out) float32
 *   /optimizer        attributes type = "sgd", momentum, weight_decay
 *   /optimizer/layer_L/weights_velocity, /optimizer/layer_L/biases_velocity
 *   /train            attributes epochs_done, step_in_epoch, global_step, samples_seen, seed,
 *                     batch_size, train_samples, train_loss, test_loss, test_accuracy
 * A checkpoint is written to a temporary name, flushed, synced and renamed into place. */
#ifndef NNMPI_NN_CHECKPOINT_H
#define NNMPI_NN_CHECKPOINT_H

#include <stdint.h>

#include "nnmpi/nn_model.h"
#include "nnmpi/nn_optim.h"
#include "nnmpi/nn_status.h"

#define NN_CHECKPOINT_FORMAT_VERSION 1

/* Where a run stands. Training continues at step step_in_epoch of epoch epochs_done. */
typedef struct {
    int64_t epochs_done;
    int64_t step_in_epoch;
    int64_t global_step;
    int64_t samples_seen;
    int64_t seed;
    int64_t batch_size;
    int64_t train_samples; /* rows of the training split in use */
    int64_t nranks;        /* ranks of the run that wrote the checkpoint */
    double train_loss;     /* mean training loss of the last finished epoch; NaN: none */
    double test_loss;      /* last evaluation; NaN: none */
    double test_accuracy;
} NnTrainState;

/* Writes the model, optimizer and state to path atomically; config_text is stored as is. */
NnStatus nn_checkpoint_write(const char *path, const NnModel *m, const NnSgd *opt,
                             const NnTrainState *state, const char *config_text,
                             char err[NN_ERR_LEN]);

/* Reads a checkpoint into m, opt and state. m and opt must already have the checkpoint's
 * architecture; a different one is an error that names both. */
NnStatus nn_checkpoint_read(const char *path, NnModel *m, NnSgd *opt, NnTrainState *state,
                            char err[NN_ERR_LEN]);

#endif
