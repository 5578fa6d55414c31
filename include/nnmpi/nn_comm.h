/* MPI helpers: agreeing on success or failure, so that an error on any rank ends every
 * rank cleanly instead of leaving the others waiting in a collective. */
#ifndef NNMPI_NN_COMM_H
#define NNMPI_NN_COMM_H

#include <mpi.h>

#include "nnmpi/nn_status.h"

/* nn-mpi keeps MPI's default handler, MPI_ERRORS_ARE_FATAL; this check still turns an
 * unexpected return code into a message and MPI_Abort of the whole job. */
#define NN_MPI_CHECK(call)                                               \
    do {                                                                 \
        int nn_mpi_rc_ = (call);                                         \
        if (nn_mpi_rc_ != MPI_SUCCESS)                                   \
            nn_comm_die(#call, nn_mpi_rc_, __FILE__, __LINE__);          \
    } while (0)

/* Prints which MPI call failed and aborts every rank. Never returns. */
_Noreturn void nn_comm_die(const char *call, int code, const char *file, int line);

/* Collective. Every rank passes its own status and message. When any rank failed, every
 * rank returns the status of the lowest failing rank (NN_ERR, NN_REFUSED, ...) with err set
 * to its message, prefixed "rank R: "; otherwise NN_OK and err is untouched. */
NnStatus nn_comm_agree(MPI_Comm comm, NnStatus local, char err[NN_ERR_LEN]);

#endif
