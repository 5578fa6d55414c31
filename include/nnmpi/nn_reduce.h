/* Gradient sums through shared memory, and parameters shared by the ranks of a node.
 *
 * The ranks of a node write their gradients into one MPI shared-memory window, a row each.
 * After a node barrier every rank sums one slice of the vector over the node's rows; when
 * there are several nodes, the ranks with the same node rank on every node then sum that
 * slice over the nodes with one MPI_Allreduce. Each rank updates its slice of the
 * parameters and optimizer state, which the ranks of a node keep once, in the same window,
 * and a second node barrier publishes them. A rank so reads the gradient once instead of
 * copying it through MPI's buffers, and the update's work is split across the node.
 *
 * Nodes are as nn_node.h finds them. Nodes with different numbers of ranks, or without
 * room in /dev/shm, fall back to one rank per "node" (every rank its own row and
 * parameters; one MPI_Allreduce of the whole row). Every function here is collective over
 * the communicator given to nn_reduce_init. */
#ifndef NNMPI_NN_REDUCE_H
#define NNMPI_NN_REDUCE_H

#include <mpi.h>
#include <stddef.h>
#include <stdint.h>

#include "nnmpi/nn_node.h"
#include "nnmpi/nn_status.h"

typedef struct {
    int ready;             /* set once the communicators and the window exist */
    MPI_Comm node;         /* the ranks that share the window */
    MPI_Comm peers;        /* the ranks with this node rank, one per node */
    MPI_Win win;
    NnShmRoom room;        /* whether the nodes had room to share (else one rank per node) */
    int node_rank, node_size, nodes;
    MPI_Datatype type;     /* MPI_FLOAT or MPI_INT64_T */
    size_t elem;           /* its size in bytes */
    size_t values, slots;  /* a row: values summed by slice, then slots every rank sums */
    size_t lo, hi;         /* this rank's slice of the values */
    char **rows;           /* every node rank's row */
    float *shared;         /* shared_floats floats kept once per node */
    size_t shared_floats;
    void *staging;         /* several nodes: this rank's slice and the slots' sums */
} NnReduce;

/* Rows of values + slots elements of type (MPI_FLOAT or MPI_INT64_T), zeroed, and
 * shared_floats floats shared by the node (uninitialised: node rank 0 fills them, then
 * nn_reduce_publish). The status is agreed: every rank fails or none does, and on failure
 * nothing needs freeing. */
NnStatus nn_reduce_init(NnReduce *r, MPI_Comm comm, size_t values, size_t slots,
                        MPI_Datatype type, size_t shared_floats, char err[NN_ERR_LEN]);

/* This rank's row (values, then slots); the caller writes it before nn_reduce_sum. */
void *nn_reduce_row(const NnReduce *r);

/* Sums every rank's row: afterwards [lo, hi) of this rank's row holds the sums over all
 * ranks, and slot_sums (slots elements) the sums of the slots, the same bits on every rank.
 * Rows must not be written again until nn_reduce_publish has returned. */
void nn_reduce_sum(NnReduce *r, void *slot_sums);

/* After nn_reduce_sum: values[0..n) hold this rank's partial results over its slice
 * [lo, hi), such as exact sums (nn_fixed.h); afterwards they hold the totals over the whole
 * vector, the same on every rank. The slices of one node cover the vector (every node has
 * all of them), so one MPI_Allreduce over the node does it; none with one rank per node. */
void nn_reduce_sum_slices(NnReduce *r, int64_t *values, int n);

/* Node barrier: the shared floats written by the node's ranks are visible to all. */
void nn_reduce_publish(NnReduce *r);

/* The shared floats of the communicator's rank 0 to every node, then nn_reduce_publish. */
void nn_reduce_share_from_root(NnReduce *r);

/* Frees everything nn_reduce_init made; safe on a zeroed struct. */
void nn_reduce_free(NnReduce *r);

#endif
