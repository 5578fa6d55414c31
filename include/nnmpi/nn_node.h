/* Which ranks share a node's memory. */
#ifndef NNMPI_NN_NODE_H
#define NNMPI_NN_NODE_H

#include <mpi.h>

/* Collective over comm: *node holds the ranks of comm that share memory with this one
 * (MPI_COMM_TYPE_SHARED), ordered as in comm. For tests, NN_MPI_TEST_RANKS_PER_NODE=k
 * groups the ranks k at a time instead, as if each group were a separate node. */
void nn_node_split(MPI_Comm comm, MPI_Comm *node);

#endif
