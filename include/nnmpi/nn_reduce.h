/* Gradient sums through shared memory, and parameters shared by the ranks of a node.
 *
 * The ranks of a node write their gradients into one MPI shared-memory window, a row each
 * (in reproducible mode, a row per chunk of the batch, as floats; their sums are exact).
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
    int exact_rows;        /* 0: float sums; else exact sums of up to this many rows a rank */
    size_t values, slots;  /* a row: values summed by slice, then slots every rank sums */
    size_t lo, hi;         /* this rank's slice of the values */
    char **parts;          /* every node rank's part of the window */
    size_t row_stride;     /* exact: bytes from one float row of a part to the next */
    float *shared;         /* shared_floats floats kept once per node */
    size_t shared_floats;
    void *staging;         /* float sums, several nodes: this rank's slice and the slots */
    int64_t *exact;        /* exact sums: this rank's slice, then the slots and the count of
                              values left out (the part the nodes sum together) */
    const float **sources; /* exact sums: the node's rows, this rank's slice of each */
    int exact_started;     /* exact sums: the step's first group is added */
    float *exact_out;      /* exact sums: where the step's float sums go */
    int exact_converted;   /* exact sums: exact_out holds them already (one node) */
    int64_t rejected;      /* exact sums: values left out of this rank's slice this step */
} NnReduce;

/* Float sums (exact_rows = 0): a row of values floats, then slots floats, per rank.
 * Exact sums (exact_rows = k > 0), for reproducible mode: up to k rows of values floats
 * per rank at a time, whose sum over the ranks the node computes exactly (nn_fixed.h), and
 * slots int64s per rank. Also shared_floats floats shared by the node (uninitialised:
 * node rank 0 fills them, then nn_reduce_publish). The status is agreed: every rank fails
 * or none does, and on failure nothing needs freeing. */
NnStatus nn_reduce_init(NnReduce *r, MPI_Comm comm, size_t values, size_t slots, int exact_rows,
                        size_t shared_floats, char err[NN_ERR_LEN]);

/* Float sums: this rank's row (values, then slots); the caller writes it before
 * nn_reduce_sum. */
void *nn_reduce_row(const NnReduce *r);

/* Float sums: sums every rank's row: afterwards [lo, hi) of this rank's row holds the sums
 * over all ranks, and slot_sums (slots floats) the sums of the slots, the same bits on
 * every rank. Rows must not be written again until nn_reduce_publish has returned. */
void nn_reduce_sum(NnReduce *r, float *slot_sums);

/* Exact sums: this rank's float row j < exact_rows (values floats and room for slots
 * floats after them, unused by the sums; 64-byte aligned) and its slots. */
float *nn_reduce_exact_row(const NnReduce *r, int j);
int64_t *nn_reduce_exact_slots(const NnReduce *r);

/* Exact sums, one group of rows: this rank has written rows 0 .. rows - 1 (0 <= rows <=
 * exact_rows); adds the exact sum of the node's rows over this rank's slice (each value
 * within limit, as nn_fixed_sum_rows) to the step's sums, the first call of a step
 * starting them. Collective over the node, which every rank calls equally often in a
 * step. Every group but the step's last passes out = NULL, and the rows may be written
 * again on return; the last passes the floats nn_reduce_exact_finish fills (it may fill
 * them already), and the rows and slots stay until nn_reduce_publish. */
void nn_reduce_exact_add(NnReduce *r, int rows, double limit, float *out);

/* Exact sums, after the step's last nn_reduce_exact_add: out[lo, hi) = the float values of
 * the sums over all ranks and nodes, slot_sums (slots int64s) the sums of every rank's
 * slots; returns how many values of any rank's rows were left out (NaN, infinite or beyond
 * the limit); the same on every rank. Collective. */
int64_t nn_reduce_exact_finish(NnReduce *r, int64_t *slot_sums);

/* After the sums: values[0..n) hold this rank's partial results over its slice [lo, hi),
 * such as exact sums (nn_fixed.h); afterwards they hold the totals over the whole vector,
 * the same on every rank. The slices of one node cover the vector (every node has all of
 * them), so one MPI_Allreduce over the node does it; none with one rank per node. */
void nn_reduce_sum_slices(NnReduce *r, int64_t *values, int n);

/* Node barrier: the shared floats written by the node's ranks are visible to all. */
void nn_reduce_publish(NnReduce *r);

/* The shared floats of the communicator's rank 0 to every node, then nn_reduce_publish. */
void nn_reduce_share_from_root(NnReduce *r);

/* Frees everything nn_reduce_init made; safe on a zeroed struct. */
void nn_reduce_free(NnReduce *r);

#endif
