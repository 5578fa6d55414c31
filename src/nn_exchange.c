#include "nnmpi/nn_exchange.h"

#include <string.h>

#include "nnmpi/nn_comm.h"
#include "nnmpi/nn_sampler.h"
#include "nnmpi/nn_shard.h"

/* Samples rank `rank` uses in one epoch: its part of every step's batch. */
static int64_t samples_used(const NnBatchLayout *layout, int rank)
{
    int64_t steps = nn_sampler_steps(layout->n, layout->batch), used = 0;
    for (int64_t t = 0; t < steps; t++) {
        int64_t start, count;
        nn_sampler_part(layout, t, rank, &start, &count);
        used += count;
    }
    return used;
}

NnStatus nn_exchange_init(NnExchange *ex, MPI_Comm comm, const NnSamples *shard, int64_t batch,
                          int64_t chunk, int64_t seed, char err[NN_ERR_LEN])
{
    memset(ex, 0, sizeof *ex);
    ex->record_type = MPI_DATATYPE_NULL;
    ex->comm = comm;
    NN_MPI_CHECK(MPI_Comm_rank(comm, &ex->rank));
    NN_MPI_CHECK(MPI_Comm_size(comm, &ex->size));
    ex->shard = shard;
    ex->layout = (NnBatchLayout){.n = shard->total, .batch = batch, .chunk = chunk,
                                 .parts = ex->size};
    ex->seed = seed;
    ex->epoch = -1;
    int64_t n = shard->total, rec = nn_samples_record_size(shard);
    ex->used = samples_used(&ex->layout, ex->rank);
    int64_t start;
    nn_sampler_part(&ex->layout, 0, ex->rank, &start, &ex->part); /* a full batch's part */
    NN_MPI_CHECK(MPI_Type_contiguous((int)rec, MPI_BYTE, &ex->record_type));
    NN_MPI_CHECK(MPI_Type_commit(&ex->record_type));

    ex->order = malloc(sizeof(int32_t) * (size_t)(n ? n : 1));
    ex->send = malloc((size_t)((shard->count ? shard->count : 1) * rec));
    ex->recv = malloc((size_t)((ex->used ? ex->used : 1) * rec));
    ex->use_record = malloc(sizeof(int64_t) * (size_t)(ex->used ? ex->used : 1));
    ex->send_counts = calloc((size_t)ex->size * 4, sizeof(int));
    NnStatus status = NN_OK;
    if (!ex->order || !ex->send || !ex->recv || !ex->use_record || !ex->send_counts) {
        status = nn_fail(err, "out of memory for the sample exchange (%lld samples)",
                         (long long)(shard->count + ex->used));
    } else {
        ex->send_displs = ex->send_counts + ex->size;
        ex->recv_counts = ex->send_counts + 2 * ex->size;
        ex->recv_displs = ex->send_counts + 3 * ex->size;
    }
    status = nn_comm_agree(comm, status, err);
    if (status != NN_OK) nn_exchange_free(ex);
    return status;
}

void nn_exchange_epoch(NnExchange *ex, int64_t epoch)
{
    const NnSamples *s = ex->shard;
    int64_t n = s->total, rec = nn_samples_record_size(s);
    int P = ex->size, me = ex->rank;
    nn_sampler_permutation(ex->seed, epoch, n, ex->order);

    memset(ex->send_counts, 0, sizeof(int) * (size_t)P * 4);
    for (int64_t p = 0; p < n; p++) {
        int64_t item = ex->order[p];
        int owner = nn_shard_owner(n, P, item), user = nn_sampler_user(&ex->layout, p);
        if (owner == me) ex->send_counts[user]++;
        if (user == me) ex->recv_counts[owner]++;
    }
    for (int r = 1; r < P; r++) {
        ex->send_displs[r] = ex->send_displs[r - 1] + ex->send_counts[r - 1];
        ex->recv_displs[r] = ex->recv_displs[r - 1] + ex->recv_counts[r - 1];
    }
    /* Walking positions in order keeps each destination's samples in its order of use; the
     * k-th sample this rank uses is the next unread one from its owner's segment. The
     * displacement arrays double as cursors and are restored afterwards. */
    int64_t k = 0;
    for (int64_t p = 0; p < n; p++) {
        int64_t item = ex->order[p];
        int owner = nn_shard_owner(n, P, item), user = nn_sampler_user(&ex->layout, p);
        if (owner == me)
            memcpy(ex->send + (int64_t)ex->send_displs[user]++ * rec,
                   s->records + (item - s->start) * rec, (size_t)rec);
        if (user == me) ex->use_record[k++] = ex->recv_displs[owner]++;
    }
    NN_ASSERT(k == ex->used);
    for (int r = 0; r < P; r++) {
        ex->send_displs[r] -= ex->send_counts[r];
        ex->recv_displs[r] -= ex->recv_counts[r];
    }
    NN_MPI_CHECK(MPI_Alltoallv(ex->send, ex->send_counts, ex->send_displs, ex->record_type,
                               ex->recv, ex->recv_counts, ex->recv_displs, ex->record_type,
                               ex->comm));
    ex->epoch = epoch;
}

/* This rank's part of step `step`: [*first, *first + *count) of its samples in use order. */
static void local_part(const NnExchange *ex, int64_t step, int64_t *first, int64_t *count)
{
    int64_t start;
    nn_sampler_part(&ex->layout, step, ex->rank, &start, count);
    *first = step * ex->part; /* every step before the last is a full batch */
}

int nn_exchange_batch(const NnExchange *ex, int64_t step, float *x, uint8_t *labels)
{
    NN_ASSERT(ex->epoch >= 0);
    int64_t first, count, rec = nn_samples_record_size(ex->shard);
    int features = ex->shard->features;
    local_part(ex, step, &first, &count);
    for (int64_t i = 0; i < count; i++)
        nn_record_decode(ex->recv + ex->use_record[first + i] * rec, features,
                         x + i * features, &labels[i]);
    return (int)count;
}

int nn_exchange_batch_ids(const NnExchange *ex, int64_t step, int32_t *ids)
{
    int64_t count, start;
    nn_sampler_part(&ex->layout, step, ex->rank, &start, &count);
    for (int64_t i = 0; i < count; i++) ids[i] = ex->order[start + i];
    return (int)count;
}

void nn_exchange_free(NnExchange *ex)
{
    if (ex->record_type != MPI_DATATYPE_NULL) MPI_Type_free(&ex->record_type);
    free(ex->order);
    free(ex->send);
    free(ex->recv);
    free(ex->use_record);
    free(ex->send_counts);
    memset(ex, 0, sizeof *ex);
}
