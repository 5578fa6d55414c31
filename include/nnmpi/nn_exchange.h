/* The per-epoch sample exchange. Each rank holds a fixed shard of the training split's
 * rows, in memory the ranks of its node share (nn_node.h). An epoch visits the rows in use
 * for training (all of them, or the sorted list left after holding out a validation split,
 * nn_sampler_validation_split): position p of the epoch is row rows[perm[p]], with perm the
 * epoch's permutation of [0, n_rows) (nn_sampler.h); the held-out rows stay in the shards,
 * unused. At the start of an epoch one MPI_Alltoallv moves every sample to the rank that
 * uses it in that epoch unless the two ranks are on one node: then the user reads it in
 * place. Each step's batch is then assembled locally. */
#ifndef NNMPI_NN_EXCHANGE_H
#define NNMPI_NN_EXCHANGE_H

#include <mpi.h>
#include <stdint.h>

#include "nnmpi/nn_augment.h"
#include "nnmpi/nn_dataset.h"
#include "nnmpi/nn_node.h"
#include "nnmpi/nn_sampler.h"
#include "nnmpi/nn_status.h"

typedef struct {
    MPI_Comm comm;
    int rank, size;
    const NnSamples *shard; /* this rank's rows of the training split (not its records) */
    NnBatchLayout layout;   /* how batches split across the ranks; layout.n rows in use */
    int64_t seed;
    int64_t epoch;          /* the epoch whose samples are here; -1 before the first */
    int64_t used;           /* samples this rank uses in an epoch */
    int64_t part;           /* samples this rank uses in a full batch */
    int shared;             /* set once node, win and record_type exist */
    MPI_Comm node;          /* the ranks on this node */
    NnShmRoom room;         /* whether the nodes had room to share (else one rank each) */
    MPI_Win win;            /* the node's shards' records */
    const uint8_t **held;   /* (size): rank r's records when r is on this node, else NULL */
    int64_t *first_row;     /* (size): each rank's first row */
    int32_t *rows;          /* (layout.n): the rows in use, ascending; NULL: all, in order */
    int32_t *owner_of;      /* (shard->total): the rank that holds each row */
    int32_t *user_at;       /* (layout.n): the rank that uses each position of an epoch */
    int32_t *order;         /* (layout.n): the row at each position of the epoch */
    uint8_t *send;          /* (shard->count, record), or 1 byte when all ranks share a node */
    uint8_t *recv;          /* (used, record), the same */
    const uint8_t **use_record; /* (used): the k-th sample used, in a node's shard or recv */
    int *send_counts, *send_displs, *recv_counts, *recv_displs; /* (size), in records */
    MPI_Datatype record_type;
    NnAugment augment;      /* the training images' shifts; augment.shift 0: none */
    uint8_t *shifted;       /* (record): a shifted record, when augment.shift > 0 */
} NnExchange;

/* Collective. Copies the shard's records into node shared memory and the list of rows in
 * use, rows[0..n_rows) (ascending rows of the split; NULL: all shard->total rows, n_rows
 * = shard->total), into its own memory; the caller may free both afterwards. Allocates
 * everything an epoch needs (nothing is allocated per epoch). Batches of `batch` samples
 * split across the ranks in whole chunks of `chunk`. n_rows >= 1. */
NnStatus nn_exchange_init(NnExchange *ex, MPI_Comm comm, const NnSamples *shard,
                          const int32_t *rows, int64_t n_rows, int64_t batch, int64_t chunk,
                          int64_t seed, char err[NN_ERR_LEN]);

/* Collective: moves the samples of `epoch` to the ranks that use them. */
void nn_exchange_epoch(NnExchange *ex, int64_t epoch);

/* Shifts every training sample that nn_exchange_batch decodes from now on as a says
 * (nn_augment.h; a copied; a->shift 0: none). Allocates a record for the shifted copy. Not
 * collective. */
NnStatus nn_exchange_set_augment(NnExchange *ex, const NnAugment *a, char err[NN_ERR_LEN]);

/* Decodes this rank's part of step `step` of the current epoch into model input
 * x:(rows, features) (the shard's preprocessing applied, nn_record_decode, after the
 * augmentation's shift, if any) and labels:(rows), or targets:(rows, T) for a regression
 * shard; returns rows (0 when this rank's part is empty). Allocates nothing. */
int nn_exchange_batch(const NnExchange *ex, int64_t step, float *x, int32_t *labels,
                      float *targets);

/* The rows of the training split of the samples that nn_exchange_batch(ex, step, ...)
 * returns, in its order (a sample's index for its dropout mask, and for tests); returns
 * their number. Allocates nothing. */
int nn_exchange_batch_ids(const NnExchange *ex, int64_t step, int32_t *ids);

/* Frees what nn_exchange_init allocated (also after it failed; safe on a zeroed struct). */
void nn_exchange_free(NnExchange *ex);

#endif
