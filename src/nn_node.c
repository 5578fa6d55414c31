#include "nnmpi/nn_node.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/statvfs.h>

#include "nnmpi/nn_comm.h"

/* Kept free in /dev/shm beyond a window: MPI's own segments and other jobs' files. */
#define SHM_MARGIN_BYTES (64.0 * 1024 * 1024)

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

/* Free bytes in /dev/shm, or -1 when it cannot be told. */
static double shm_free_bytes(void)
{
    const char *fake = getenv("NN_MPI_TEST_SHM_FREE");
    if (fake) return atof(fake);
    struct statvfs fs;
    if (statvfs("/dev/shm", &fs) != 0) return -1.0;
    return (double)fs.f_bavail * (double)fs.f_frsize;
}

NnShmRoom nn_node_split_fitting(MPI_Comm comm, size_t bytes, MPI_Comm *node)
{
    nn_node_split(comm, node);
    int node_rank, rank;
    NN_MPI_CHECK(MPI_Comm_rank(*node, &node_rank));
    NN_MPI_CHECK(MPI_Comm_rank(comm, &rank));
    double mine = (double)bytes, need, free_bytes = node_rank == 0 ? shm_free_bytes() : 0.0;
    NN_MPI_CHECK(MPI_Allreduce(&mine, &need, 1, MPI_DOUBLE, MPI_SUM, *node));
    NN_MPI_CHECK(MPI_Bcast(&free_bytes, 1, MPI_DOUBLE, 0, *node));
    int fits = free_bytes < 0.0 || need + SHM_MARGIN_BYTES <= free_bytes;
    /* Over all nodes: whether all fit, the largest need, the least free space. */
    double local[3] = {fits ? 0.0 : 1.0, need, free_bytes < 0.0 ? -INFINITY : -free_bytes};
    double worst[3];
    NN_MPI_CHECK(MPI_Allreduce(local, worst, 3, MPI_DOUBLE, MPI_MAX, comm));
    NnShmRoom room = {.fits = worst[0] == 0.0,
                      .need_bytes = worst[1],
                      .free_bytes = worst[2] == -INFINITY ? -1.0 : -worst[2]};
    if (!room.fits) {
        NN_MPI_CHECK(MPI_Comm_free(node));
        NN_MPI_CHECK(MPI_Comm_split(comm, rank, 0, node));
    }
    return room;
}

/* Asks for transparent huge pages on the whole 2 MiB pages of [p, p + bytes), before they
 * are first touched: the step reads training records at random, and 4 KiB pages make most
 * of those reads miss the TLB. The kernel grants it where its settings allow (private
 * memory: transparent_hugepage/enabled = madvise or always; shared memory: shmem_enabled
 * = advise); elsewhere the call changes nothing, and its failure is no error. */
static void advise_huge_pages(void *p, size_t bytes)
{
    const uintptr_t huge = (uintptr_t)2 << 20;
    uintptr_t lo = ((uintptr_t)p + huge - 1) & ~(huge - 1);
    uintptr_t hi = ((uintptr_t)p + bytes) & ~(huge - 1);
    if (hi > lo) (void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
}

void *nn_node_window(MPI_Comm node, size_t bytes, MPI_Win *win)
{
    MPI_Info info;
    NN_MPI_CHECK(MPI_Info_create(&info));
    NN_MPI_CHECK(MPI_Info_set(info, "alloc_shared_noncontig", "true"));
    void *mine = NULL;
    NN_MPI_CHECK(MPI_Win_allocate_shared((MPI_Aint)bytes, 1, info, node, &mine, win));
    NN_MPI_CHECK(MPI_Info_free(&info));
    advise_huge_pages(mine, bytes);
    NN_MPI_CHECK(MPI_Win_lock_all(MPI_MODE_NOCHECK, *win));
    return mine;
}

void *nn_node_window_part(MPI_Win win, int k)
{
    MPI_Aint size;
    int unit;
    void *part;
    NN_MPI_CHECK(MPI_Win_shared_query(win, k, &size, &unit, &part));
    return part;
}

void nn_node_sync(MPI_Comm node, MPI_Win win)
{
    NN_MPI_CHECK(MPI_Win_sync(win));
    NN_MPI_CHECK(MPI_Barrier(node));
    NN_MPI_CHECK(MPI_Win_sync(win));
}

void nn_node_window_free(MPI_Win *win)
{
    NN_MPI_CHECK(MPI_Win_unlock_all(*win));
    NN_MPI_CHECK(MPI_Win_free(win));
}
