/* The splits a run reads from its dataset file: this rank's shards of the training,
 * validation and test splits, and the training rows an epoch visits.
 *
 * The validation split is, in this order:
 * - the file's own /validation group (same layout as /test, nn_dataset.h); [data] validation
 *   must then be 0;
 * - else, with [data] validation = V > 0, V rows held out of the N training rows in use,
 *   chosen from the seed alone (nn_sampler_validation_split): training visits the other
 *   N - V rows, and the held-out rows stay unused in the training shards; V < N;
 * - else empty.
 * The validation and test shards are chunk-aligned (nn_shard_range_units with the trainer's
 * test unit), so both evaluate exactly alike at any rank count. */
#ifndef NNMPI_NN_SPLITS_H
#define NNMPI_NN_SPLITS_H

#include <mpi.h>
#include <stdint.h>

#include "nnmpi/nn_config.h"
#include "nnmpi/nn_dataset.h"
#include "nnmpi/nn_status.h"

/* The splits that evaluation visits. */
typedef enum { NN_SPLIT_TEST, NN_SPLIT_VALIDATION } NnSplit;

typedef struct {
    NnSamples train;        /* shard of all N training rows in use (held-out rows included) */
    int32_t *train_rows;    /* (n_train_rows): ascending rows of train an epoch visits;
                               NULL: all of them; owned */
    int64_t n_train_rows;   /* N - V */
    NnSamples validation;   /* total 0 when there is no validation split */
    NnSamples test;
    int validation_in_file; /* 1: the file's /validation; 0: held out of train, or none */
} NnSplits;

/* Collective over comm. Reads the splits of cfg->data_path for cfg ([data] train_samples,
 * test_samples, validation, [train] seed): the training split in balanced shards, the test
 * and validation splits in whole units of `unit` rows (nn_trainer_test_unit). The status is
 * agreed across ranks; on failure nothing is left allocated. Errors name the file and, for
 * a bad [data] validation, the key and the number of training rows. */
NnStatus nn_splits_read(MPI_Comm comm, const NnConfig *cfg, int64_t unit, NnSplits *out,
                        char err[NN_ERR_LEN]);

/* Frees what the splits own (safe on a zeroed struct). */
void nn_splits_free(NnSplits *splits);

#endif
