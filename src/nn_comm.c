#include "nnmpi/nn_comm.h"

#include <string.h>

void nn_comm_die(const char *call, int code, const char *file, int line)
{
    char text[MPI_MAX_ERROR_STRING] = "";
    int len = 0, rank = -1;
    MPI_Error_string(code, text, &len);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    fprintf(stderr, "rank %d: internal error: %s:%d: %s failed: %s\n", rank, file, line, call,
            text);
    MPI_Abort(MPI_COMM_WORLD, 1);
    abort();
}

NnStatus nn_comm_agree(MPI_Comm comm, NnStatus local, char err[NN_ERR_LEN])
{
    int rank, size, first;
    NN_MPI_CHECK(MPI_Comm_rank(comm, &rank));
    NN_MPI_CHECK(MPI_Comm_size(comm, &size));
    int mine = local == NN_OK ? size : rank;
    NN_MPI_CHECK(MPI_Allreduce(&mine, &first, 1, MPI_INT, MPI_MIN, comm));
    if (first == size) return NN_OK;
    char message[NN_ERR_LEN + 1]; /* the status, then the text */
    if (rank == first) {
        message[0] = (char)local;
        memcpy(message + 1, err, NN_ERR_LEN);
    }
    NN_MPI_CHECK(MPI_Bcast(message, NN_ERR_LEN + 1, MPI_CHAR, first, comm));
    message[NN_ERR_LEN] = '\0';
    NnStatus status = (NnStatus)message[0];
    nn_fail(err, "rank %d: %s", first, message + 1);
    return status;
}
