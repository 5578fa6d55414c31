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

/* Bytes of one rank's part of the window. Exact sums: a header line (the rows written),
 * the slots, then exact_rows float rows, each on whole lines. */
static size_t part_bytes(const NnReduce *r)
{
    if (!r->exact_rows) return round_up((r->values + r->slots) * sizeof(float), ALIGN_BYTES);
    return ALIGN_BYTES + round_up(r->slots * sizeof(int64_t), ALIGN_BYTES) +
           (size_t)r->exact_rows * r->row_stride;
}

NnStatus nn_reduce_init(NnReduce *r, MPI_Comm comm, size_t values, size_t slots, int exact_rows,
                        size_t shared_floats, char err[NN_ERR_LEN])
{
    memset(r, 0, sizeof *r);
    NN_ASSERT(exact_rows >= 0);
    r->exact_rows = exact_rows;
    r->values = values;
    r->slots = slots;
    r->shared_floats = shared_floats;
    /* a float row holds the values and room for the slots, as a model's gradients do */
    r->row_stride = round_up((values + slots) * sizeof(float), ALIGN_BYTES);
    int rank;
    NN_MPI_CHECK(MPI_Comm_rank(comm, &rank));
    size_t part = part_bytes(r);
    size_t shared_bytes = round_up(shared_floats * sizeof(float), ALIGN_BYTES);
    split_nodes(r, comm, part + shared_bytes);
    NN_MPI_CHECK(MPI_Comm_rank(r->node, &r->node_rank));
    NN_MPI_CHECK(MPI_Comm_size(r->node, &r->node_size));
    NN_MPI_CHECK(MPI_Comm_split(comm, r->node_rank, rank, &r->peers));
    NN_MPI_CHECK(MPI_Comm_size(r->peers, &r->nodes));

    char *base = nn_node_window(r->node, part + (r->node_rank == 0 ? shared_bytes : 0), &r->win);
    r->ready = 1;

    r->parts = nn_fault_alloc(NN_STAGE_SUMS, calloc((size_t)r->node_size, sizeof *r->parts));
    size_t chunk = values / (size_t)r->node_size / SLICE_ALIGN * SLICE_ALIGN;
    r->lo = (size_t)r->node_rank * chunk;
    r->hi = r->node_rank == r->node_size - 1 ? values : r->lo + chunk;
    int need_staging = !exact_rows && r->nodes > 1 && r->node_size > 1;
    if (need_staging) r->staging = malloc((r->hi - r->lo + slots) * sizeof(float));
    if (exact_rows) {
        r->exact = malloc((r->hi - r->lo + slots + 1) * sizeof(int64_t));
        r->sources = malloc((size_t)r->node_size * (size_t)exact_rows * sizeof *r->sources);
    }
    NnStatus status = NN_OK;
    if (!r->parts || (need_staging && !r->staging) ||
        (exact_rows && (!r->exact || !r->sources)))
        status = nn_fail(err, "out of memory for the gradient sums");
    /* Agree, then free (nn_status.h): freeing the window is collective. */
    status = nn_comm_agree(comm, status, err);
    if (status != NN_OK) {
        nn_reduce_free(r);
        return status;
    }
    for (int k = 0; k < r->node_size; k++) r->parts[k] = nn_node_window_part(r->win, k);
    r->shared = (float *)(r->parts[0] + part);
    memset(base, 0, part);
    nn_reduce_publish(r);
    return NN_OK;
}

void *nn_reduce_row(const NnReduce *r)
{
    NN_ASSERT(!r->exact_rows);
    return r->parts[r->node_rank];
}

static void add_floats(float *restrict acc, const float *restrict v, size_t n)
{
    for (size_t i = 0; i < n; i++) acc[i] += v[i];
}

void nn_reduce_sum(NnReduce *r, float *slot_sums)
{
    NN_ASSERT(!r->exact_rows);
    nn_reduce_publish(r); /* every row is written */
    float *mine = (float *)r->parts[r->node_rank];
    /* This rank's slice over the node, in a fixed order: its own row, then the others. */
    for (int k = 0; k < r->node_size; k++)
        if (k != r->node_rank)
            add_floats(mine + r->lo, (const float *)r->parts[k] + r->lo, r->hi - r->lo);
    /* The slots, by every rank in the same order: the same sums everywhere. */
    memcpy(slot_sums, (const float *)r->parts[0] + r->values, r->slots * sizeof(float));
    for (int k = 1; k < r->node_size; k++)
        add_floats(slot_sums, (const float *)r->parts[k] + r->values, r->slots);
    if (r->nodes == 1) return;
    if (r->node_size == 1) { /* the row is the slice and the slots, contiguous */
        NN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, mine, (int)(r->values + r->slots), MPI_FLOAT,
                                   MPI_SUM, r->peers));
        memcpy(slot_sums, mine + r->values, r->slots * sizeof(float));
        return;
    }
    size_t slice = r->hi - r->lo;
    float *staging = r->staging;
    memcpy(staging, mine + r->lo, slice * sizeof(float));
    memcpy(staging + slice, slot_sums, r->slots * sizeof(float));
    NN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, staging, (int)(slice + r->slots), MPI_FLOAT,
                               MPI_SUM, r->peers));
    memcpy(mine + r->lo, staging, slice * sizeof(float));
    memcpy(slot_sums, staging + slice, r->slots * sizeof(float));
}

/* Exact sums: a part's header (the rows written), slots and rows. */
static int64_t *part_header(const NnReduce *r, int k)
{
    return (int64_t *)r->parts[k];
}

int64_t *nn_reduce_exact_slots(const NnReduce *r)
{
    NN_ASSERT(r->exact_rows);
    return (int64_t *)(r->parts[r->node_rank] + ALIGN_BYTES);
}

static float *part_row(const NnReduce *r, int k, int j)
{
    return (float *)(r->parts[k] + ALIGN_BYTES + round_up(r->slots * sizeof(int64_t), ALIGN_BYTES) +
                     (size_t)j * r->row_stride);
}

float *nn_reduce_exact_row(const NnReduce *r, int j)
{
    NN_ASSERT(r->exact_rows && j >= 0 && j < r->exact_rows);
    return part_row(r, r->node_rank, j);
}

void nn_reduce_exact_add(NnReduce *r, int rows, double limit, float *out)
{
    NN_ASSERT(r->exact_rows && rows >= 0 && rows <= r->exact_rows);
    *part_header(r, r->node_rank) = rows;
    nn_reduce_publish(r); /* every row is written */
    int n = 0; /* the node's rows, in a fixed order (the sum does not depend on it) */
    for (int k = 0; k < r->node_size; k++) {
        int64_t written = *part_header(r, k);
        NN_ASSERT(written >= 0 && written <= r->exact_rows);
        for (int j = 0; j < written; j++) r->sources[n++] = part_row(r, k, j) + r->lo;
    }
    /* One node: the sums are the totals, converted while they are in the cache. */
    r->exact_out = out;
    r->exact_converted = out && r->nodes == 1;
    /* The step's only group on one node: its sums need not be kept, only converted. */
    int64_t *sums = r->exact_converted && !r->exact_started ? NULL : r->exact;
    int64_t left_out = nn_fixed_sum_rows(sums, r->sources, n, r->hi - r->lo, limit,
                                         r->exact_started,
                                         r->exact_converted ? out + r->lo : NULL);
    r->rejected = (r->exact_started ? r->rejected : 0) + left_out;
    r->exact_started = 1;
    if (!out) nn_reduce_publish(r); /* every rank has read the rows */
}

int64_t nn_reduce_exact_finish(NnReduce *r, int64_t *slot_sums)
{
    NN_ASSERT(r->exact_rows && r->exact_started && r->exact_out);
    size_t slice = r->hi - r->lo;
    /* The slots, by every rank: integers, so the order does not matter. */
    memset(slot_sums, 0, r->slots * sizeof(int64_t));
    for (int k = 0; k < r->node_size; k++) {
        const int64_t *s = (const int64_t *)(r->parts[k] + ALIGN_BYTES);
        for (size_t i = 0; i < r->slots; i++) slot_sums[i] += s[i];
    }
    int64_t *sums = r->exact; /* the slice, then the slots and the count left out */
    memcpy(sums + slice, slot_sums, r->slots * sizeof(int64_t));
    sums[slice + r->slots] = r->rejected;
    if (r->nodes > 1)
        NN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, sums, (int)(slice + r->slots + 1), MPI_INT64_T,
                                   MPI_SUM, r->peers));
    memcpy(slot_sums, sums + slice, r->slots * sizeof(int64_t));
    int64_t rejected = sums[slice + r->slots];
    if (r->node_size > 1) /* the other slices' counts */
        NN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &rejected, 1, MPI_INT64_T, MPI_SUM, r->node));
    if (!r->exact_converted) nn_fixed_to_float(sums, r->exact_out + r->lo, slice);
    r->exact_started = 0; /* the next step starts new sums */
    return rejected;
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
    free(r->parts);
    free(r->staging);
    free(r->exact);
    free(r->sources);
    memset(r, 0, sizeof *r);
}
