#include "nnmpi/nn_reduce.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nnmpi/nn_comm.h"
#include "nnmpi/nn_fault.h"
#include "nnmpi/nn_fixed.h"
#include "nnmpi/nn_node.h"

#define ALIGN_BYTES 64
#define SLICE_ALIGN 16 /* elements: slices start on cache lines */
_Static_assert(SLICE_ALIGN % NN_SQUARES_BLOCK == 0,
               "slices start on blocks of the clipping norm's sums (nn_fixed.h)");

static size_t round_up(size_t n, size_t to)
{
    return (n + to - 1) / to * to;
}

/* The node communicator (nn_node.h) when every node has room for `bytes` per rank in
 * shared memory, or this rank alone when not or when the nodes would differ in size. */
static void split_nodes(NnReduce *r, MPI_Comm comm, size_t bytes)
{
    int rank;
    NN_MPI_CHECK(MPI_Comm_rank(comm, &rank));
    r->room = nn_node_split_fitting(comm, bytes, &r->node);
    int size, sizes[2];
    NN_MPI_CHECK(MPI_Comm_size(r->node, &size));
    int mine[2] = {size, -size};
    NN_MPI_CHECK(MPI_Allreduce(mine, sizes, 2, MPI_INT, MPI_MAX, comm));
    if (sizes[0] != -sizes[1]) { /* uneven nodes: slices would not line up across nodes */
        NN_MPI_CHECK(MPI_Comm_free(&r->node));
        NN_MPI_CHECK(MPI_Comm_split(comm, rank, 0, &r->node));
    }
}

NnStatus nn_reduce_init(NnReduce *r, MPI_Comm comm, size_t values, size_t slots,
                        MPI_Datatype type, size_t shared_floats, char err[NN_ERR_LEN])
{
    memset(r, 0, sizeof *r);
    NN_ASSERT(type == MPI_FLOAT || type == MPI_INT64_T);
    r->type = type;
    r->elem = type == MPI_FLOAT ? sizeof(float) : sizeof(int64_t);
    r->values = values;
    r->slots = slots;
    r->shared_floats = shared_floats;
    int rank;
    NN_MPI_CHECK(MPI_Comm_rank(comm, &rank));
    size_t row_bytes = round_up((values + slots) * r->elem, ALIGN_BYTES);
    size_t shared_bytes = round_up(shared_floats * sizeof(float), ALIGN_BYTES);
    split_nodes(r, comm, row_bytes + shared_bytes);
    NN_MPI_CHECK(MPI_Comm_rank(r->node, &r->node_rank));
    NN_MPI_CHECK(MPI_Comm_size(r->node, &r->node_size));
    NN_MPI_CHECK(MPI_Comm_split(comm, r->node_rank, rank, &r->peers));
    NN_MPI_CHECK(MPI_Comm_size(r->peers, &r->nodes));

    char *base = nn_node_window(r->node, row_bytes + (r->node_rank == 0 ? shared_bytes : 0),
                                &r->win);
    r->ready = 1;

    r->rows = nn_fault_alloc(NN_STAGE_SUMS, calloc((size_t)r->node_size, sizeof *r->rows));
    int need_staging = r->nodes > 1 && r->node_size > 1;
    size_t chunk = values / (size_t)r->node_size / SLICE_ALIGN * SLICE_ALIGN;
    r->lo = (size_t)r->node_rank * chunk;
    r->hi = r->node_rank == r->node_size - 1 ? values : r->lo + chunk;
    if (need_staging) r->staging = malloc((r->hi - r->lo + slots) * r->elem);
    NnStatus status = NN_OK;
    if (!r->rows || (need_staging && !r->staging))
        status = nn_fail(err, "out of memory for the gradient sums");
    /* Agree, then free (nn_status.h): freeing the window is collective. */
    status = nn_comm_agree(comm, status, err);
    if (status != NN_OK) {
        nn_reduce_free(r);
        return status;
    }
    for (int k = 0; k < r->node_size; k++) r->rows[k] = nn_node_window_part(r->win, k);
    r->shared = (float *)(r->rows[0] + row_bytes);
    memset(base, 0, row_bytes);
    nn_reduce_publish(r);
    return NN_OK;
}

void *nn_reduce_row(const NnReduce *r)
{
    return r->rows[r->node_rank];
}

static void add_floats(float *restrict acc, const float *restrict v, size_t n)
{
    for (size_t i = 0; i < n; i++) acc[i] += v[i];
}

static void add_int64s(int64_t *restrict acc, const int64_t *restrict v, size_t n)
{
    for (size_t i = 0; i < n; i++) acc[i] += v[i];
}

/* acc[0..n) += v[0..n) in r's element type. */
static void add(const NnReduce *r, void *acc, const void *v, size_t n)
{
    if (r->type == MPI_FLOAT)
        add_floats(acc, v, n);
    else
        add_int64s(acc, v, n);
}

void nn_reduce_sum(NnReduce *r, void *slot_sums)
{
    nn_reduce_publish(r); /* every row is written */
    size_t e = r->elem;
    char *mine = r->rows[r->node_rank];
    /* This rank's slice over the node, in a fixed order: its own row, then the others. */
    for (int k = 0; k < r->node_size; k++)
        if (k != r->node_rank)
            add(r, mine + r->lo * e, r->rows[k] + r->lo * e, r->hi - r->lo);
    /* The slots, by every rank in the same order: the same sums everywhere. */
    memcpy(slot_sums, r->rows[0] + r->values * e, r->slots * e);
    for (int k = 1; k < r->node_size; k++) add(r, slot_sums, r->rows[k] + r->values * e, r->slots);
    if (r->nodes == 1) return;
    if (r->node_size == 1) { /* the row is the slice and the slots, contiguous */
        NN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, mine, (int)(r->values + r->slots), r->type,
                                   MPI_SUM, r->peers));
        memcpy(slot_sums, mine + r->values * e, r->slots * e);
        return;
    }
    size_t slice = r->hi - r->lo;
    char *staging = r->staging;
    memcpy(staging, mine + r->lo * e, slice * e);
    memcpy(staging + slice * e, slot_sums, r->slots * e);
    NN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, staging, (int)(slice + r->slots), r->type, MPI_SUM,
                               r->peers));
    memcpy(mine + r->lo * e, staging, slice * e);
    memcpy(slot_sums, staging + slice * e, r->slots * e);
}

void nn_reduce_sum_slices(NnReduce *r, int64_t *values, int n)
{
    if (r->node_size > 1)
        NN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, values, n, MPI_INT64_T, MPI_SUM, r->node));
}

void nn_reduce_publish(NnReduce *r)
{
    nn_node_sync(r->node, r->win);
}

void nn_reduce_share_from_root(NnReduce *r)
{
    if (r->node_rank == 0 && r->nodes > 1)
        NN_MPI_CHECK(MPI_Bcast(r->shared, (int)r->shared_floats, MPI_FLOAT, 0, r->peers));
    nn_reduce_publish(r);
}

void nn_reduce_free(NnReduce *r)
{
    if (!r->ready) return;
    nn_node_window_free(&r->win);
    NN_MPI_CHECK(MPI_Comm_free(&r->peers));
    NN_MPI_CHECK(MPI_Comm_free(&r->node));
    free(r->rows);
    free(r->staging);
    memset(r, 0, sizeof *r);
}
