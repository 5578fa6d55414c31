/* Which ranks share a node's memory, and whether the node has room to share it. */
#ifndef NNMPI_NN_NODE_H
#define NNMPI_NN_NODE_H

#include <mpi.h>
#include <stddef.h>

/* Collective over comm: *node holds the ranks of comm that share memory with this one
 * (MPI_COMM_TYPE_SHARED), ordered as in comm. For tests, NN_MPI_TEST_RANKS_PER_NODE=k
 * groups the ranks k at a time instead, as if each group were a separate node. */
void nn_node_split(MPI_Comm comm, MPI_Comm *node);

/* Room for a shared-memory window on every node. */
typedef struct {
    int fits;          /* every node's /dev/shm has room */
    double need_bytes; /* the largest node's window */
    double free_bytes; /* the least free space in a node's /dev/shm; -1 when unknown */
} NnShmRoom;

/* Collective over comm: nn_node_split, when the /dev/shm of every node (where Open MPI
 * keeps shared windows; writing past a full one kills a rank with SIGBUS) has room for
 * `bytes` from each of its ranks, with a margin. Otherwise *node holds this rank alone on
 * every rank, and the returned room says why. NN_MPI_TEST_SHM_FREE=bytes stands in for
 * the free space, for tests. */
NnShmRoom nn_node_split_fitting(MPI_Comm comm, size_t bytes, MPI_Comm *node);

/* Collective over node: a shared-memory window to which this rank gives `bytes`, each
 * rank's part placed near it, locked for access by all; returns this rank's part. */
void *nn_node_window(MPI_Comm node, size_t bytes, MPI_Win *win);

/* Node rank k's part of the window. */
void *nn_node_window_part(MPI_Win win, int k);

/* Collective over node: what the node's ranks wrote to the window is visible to all. */
void nn_node_sync(MPI_Comm node, MPI_Win win);

/* Unlocks and frees the window. */
void nn_node_window_free(MPI_Win *win);

#endif
