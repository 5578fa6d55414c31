/* Checkpoint files (HDF5, written by rank 0, readable by h5dump and h5py):
 *   /                 attributes format = "nn-mpi checkpoint", format_version, nn_mpi_version,
 *                     run_id (the run's id, nn_rundir.h; version 3 on),
 *                     nranks (ranks that wrote it), config (the run's full INI text),
 *                     fixed_settings (what a resume must not change, as text),
 *                     fixed_settings_hash, checksum (over every array and attribute below
 *                     that training uses; 16 hex digits), params_hash (nn_model_params_hash)
 *   /model            attributes layer_sizes (inputs, hidden..., outputs), activation, loss
 *   /model/layer_L/weights (out, in) float32, /model/layer_L/biases (out) float32
 *   /optimizer        attribute type ("sgd"; version 4 on also "adam" or "adamw"), and
 *                     sgd: momentum, weight_decay (float64)
 *                     adam, adamw: weight_decay, beta1, beta2, epsilon (float64), step
 *                     (int64: updates made, the bias corrections' t)
 *   /optimizer/layer_L/weights_NAME (out, in), /optimizer/layer_L/biases_NAME (out) float32,
 *                     for each state array NAME (nn_optim_state_arrays): sgd: velocity;
 *                     adam, adamw: exp_avg, exp_avg_sq (the running means of the gradient
 *                     and of its square, as PyTorch names them)
 *   /preprocessing    optional (absent: uint8 features scaled by 1/255, no mean, no std):
 *                     the model's input preprocessing (nn_preprocess.h), attributes
 *                     feature_type ("uint8" or "float32") and scale; datasets mean and std
 *                     (inputs) float32 when the data has them; covered by the checksum
 *   /train            attributes epochs_done, step_in_epoch, global_step, samples_seen, seed,
 *                     batch_size, train_samples, epoch_loss_sum, epoch_samples, log_loss_sum,
 *                     log_samples, train_loss, test_loss, test_accuracy; version 3 on also
 *                     validation_loss, validation_accuracy, best_value, best_epoch,
 *                     best_step, stale_epochs, stopped_early
 * Version 4 added Adam's and AdamW's state; the checksum covers the optimizer's type and
 * attributes from version 4 on (its arrays always). Versions 2 and 3 (SGD) still load.
 * A checkpoint is built in memory, written to a temporary name, synced and renamed into
 * place, and the directory synced (nn_h5_save_memory_file): a file under its final name is
 * always whole. In a checkpoint
 * directory, checkpoints are named ckpt-<global step, 9 digits>.h5. */
#ifndef NNMPI_NN_CHECKPOINT_H
#define NNMPI_NN_CHECKPOINT_H

#include <hdf5.h>
#include <stdint.h>

#include "nnmpi/nn_model.h"
#include "nnmpi/nn_optim.h"
#include "nnmpi/nn_preprocess.h"
#include "nnmpi/nn_status.h"

#define NN_CHECKPOINT_FORMAT_VERSION 4 /* 4: the optimizer's type, Adam's state */
#define NN_CHECKPOINT_OLDEST_VERSION 2 /* version 2 lacks run_id and the validation fields */

/* Where a run stands. Training continues at step step_in_epoch of epoch epochs_done
 * (step_in_epoch may equal the steps per epoch: the epoch's evaluation is still due). */
typedef struct {
    int64_t epochs_done;
    int64_t step_in_epoch;
    int64_t global_step;
    int64_t samples_seen;
    int64_t seed;
    int64_t batch_size;
    int64_t train_samples; /* rows of the training split in use */
    int64_t nranks;        /* ranks of the run that wrote the checkpoint */
    double epoch_loss_sum; /* training loss summed over the epoch's steps so far */
    int64_t epoch_samples; /* and the samples they took */
    double log_loss_sum;   /* the same since the last loss line of the log */
    int64_t log_samples;
    double train_loss;     /* mean training loss of the last finished epoch; NaN: none */
    double test_loss;      /* last evaluation; NaN: none */
    double test_accuracy;
    double validation_loss; /* last evaluation of the validation split; NaN: none */
    double validation_accuracy;
    double best_value;      /* the best monitored validation metric so far; NaN: none */
    int64_t best_epoch;     /* the epoch (1-based) that reached it; 0: none */
    int64_t best_step;      /* the global step of its checkpoint; -1: none */
    int64_t stale_epochs;   /* epochs since the monitored metric last improved */
    int64_t stopped_early;  /* 1: early stopping ended the run */
    char run_id[32];        /* the run's id (nn_rundir.h); "" in version 2 checkpoints */
} NnTrainState;

/* A checkpoint read back: its attributes, and a model and optimizer of its architecture
 * (with room for one row of activations) whose views hold its arrays; the storage owns
 * them. */
typedef struct {
    NnTrainState state;
    int format_version;
    char nn_mpi_version[32];
    char *config_text;    /* owned */
    char *fixed_settings; /* owned */
    uint64_t checksum;
    NnModelStorage storage; /* owns the model's parameters and the optimizer's state */
    NnModel model;
    NnOptim optim;
    NnPreprocess prep;    /* the stored preprocessing, or the default; owned */
    int has_preprocessing; /* 1: the file has /preprocessing */
} NnCheckpoint;

/* Writes the model, optimizer, preprocessing (NULL: none stored, which means the default)
 * and state to path atomically. config_text and fixed_settings are stored as they are. On
 * failure (a full disk included) err names the file and the errno text, no temporary file
 * is left, no HDF5 id stays open and path is untouched. */
NnStatus nn_checkpoint_write(const char *path, const NnModel *m, const NnOptim *opt,
                             const NnPreprocess *prep, const NnTrainState *state,
                             const char *config_text,
                             const char *fixed_settings, char err[NN_ERR_LEN]);

/* Reads and validates a whole checkpoint (a regular file): format and version, the
 * optimizer's type and attributes (each within its range), the architecture against the
 * fixed settings and every array's shape, the optimizer's included (before allocating
 * anything from them), and the checksum. Version 2 files load with an empty run_id and no
 * validation fields. On failure err says what is wrong and nothing needs freeing. */
NnStatus nn_checkpoint_load(const char *path, NnCheckpoint *ck, char err[NN_ERR_LEN]);

/* The same validation of a checkpoint already open as `file` (an HDF5 file id, e.g. an image
 * in memory from nn_h5_open_image), named `path` in messages. Leaves file open. */
NnStatus nn_checkpoint_load_open(hid_t file, const char *path, NnCheckpoint *ck,
                                 char err[NN_ERR_LEN]);

void nn_checkpoint_free(NnCheckpoint *ck);

/* DIR/ckpt-<step, 9 digits>.h5 */
void nn_checkpoint_path(const char *dir, int64_t step, char *out, size_t size);

/* The global steps of the checkpoints in dir, ascending (caller frees *steps). A missing
 * directory holds none. */
NnStatus nn_checkpoint_list(const char *dir, int64_t **steps, int *count, char err[NN_ERR_LEN]);

/* The checkpoints of one run that retention may delete: those it wrote, and those it found
 * valid with its run id when it resumed. Steps ascending. */
typedef struct {
    int64_t *steps;
    int count, cap;
} NnCheckpointSet;

NnStatus nn_checkpoint_set_add(NnCheckpointSet *set, int64_t step, char err[NN_ERR_LEN]);
void nn_checkpoint_set_free(NnCheckpointSet *set);

/* Retention: deletes the checkpoints of `own` in dir except the newest `keep` of them
 * (0: keeps all), those whose step is a multiple of keep_multiple (0: none) and the one at
 * step `protect` (-1: none), and drops the deleted ones from `own`. Never touches a file
 * outside `own`. */
NnStatus nn_checkpoint_retain(const char *dir, NnCheckpointSet *own, int keep,
                              int64_t keep_multiple, int64_t protect, char err[NN_ERR_LEN]);

/* Removes temporary files that an interrupted write left in dir; returns how many. */
int nn_checkpoint_remove_temps(const char *dir);

#endif
