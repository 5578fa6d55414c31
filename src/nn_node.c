#include "nnmpi/nn_node.h"

#include <stdlib.h>

#include "nnmpi/nn_comm.h"

void nn_node_split(MPI_Comm comm, MPI_Comm *node)
{
    int rank;
    NN_MPI_CHECK(MPI_Comm_rank(comm, &rank));
    const char *fake = getenv("NN_MPI_TEST_RANKS_PER_NODE");
    int per_node = fake ? atoi(fake) : 0;
    if (per_node > 0)
        NN_MPI_CHECK(MPI_Comm_split(comm, rank / per_node, rank, node));
    else
        NN_MPI_CHECK(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, node));
}
