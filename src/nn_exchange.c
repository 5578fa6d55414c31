#include "nnmpi/nn_exchange.h"

#include <string.h>

#include "nnmpi/nn_comm.h"
#include "nnmpi/nn_fault.h"
#include "nnmpi/nn_node.h"
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

/* The node's shared copy of the shards: this rank's records into the window, and every
 * node rank's records into held[]. Without room on some node, every rank is its own node. */
static void share_shard(NnExchange *ex, int64_t rec)
{
    const NnSamples *s = ex->shard;
    /* At least a byte, so that every node rank's held[] is non-NULL, even with no rows. */
    size_t bytes = s->count > 0 ? (size_t)(s->count * rec) : 1;
    ex->room = nn_node_split_fitting(ex->comm, bytes, &ex->node);
    uint8_t *mine = nn_node_window(ex->node, bytes, &ex->win);
    ex->shared = 1;
    if (s->count > 0) memcpy(mine, s->records, (size_t)(s->count * rec));
    nn_node_sync(ex->node, ex->win);

    int node_size;
    NN_MPI_CHECK(MPI_Comm_size(ex->node, &node_size));
    MPI_Group node_group, group;
    NN_MPI_CHECK(MPI_Comm_group(ex->node, &node_group));
    NN_MPI_CHECK(MPI_Comm_group(ex->comm, &group));
    for (int k = 0; k < node_size; k++) {
        int r;
        NN_MPI_CHECK(MPI_Group_translate_ranks(node_group, 1, &k, group, &r));
        ex->held[r] = nn_node_window_part(ex->win, k);
    }
    NN_MPI_CHECK(MPI_Group_free(&node_group));
    NN_MPI_CHECK(MPI_Group_free(&group));
}

NnStatus nn_exchange_init(NnExchange *ex, MPI_Comm comm, const NnSamples *shard,
                          const int32_t *rows, int64_t n_rows, int64_t batch, int64_t chunk,
                          int64_t seed, char err[NN_ERR_LEN])
{
    memset(ex, 0, sizeof *ex);
    ex->comm = comm;
    NN_MPI_CHECK(MPI_Comm_rank(comm, &ex->rank));
    NN_MPI_CHECK(MPI_Comm_size(comm, &ex->size));
    ex->shard = shard;
    NN_ASSERT(n_rows >= 1 && n_rows <= shard->total && (rows || n_rows == shard->total));
    ex->layout = (NnBatchLayout){.n = n_rows, .batch = batch, .chunk = chunk,
                                 .parts = ex->size};
    ex->seed = seed;
    ex->epoch = -1;
    int64_t n = shard->total, rec = nn_samples_record_size(shard);
    ex->used = samples_used(&ex->layout, ex->rank);
    int64_t start;
    nn_sampler_part(&ex->layout, 0, ex->rank, &start, &ex->part); /* a full batch's part */

    ex->order = nn_fault_alloc(NN_STAGE_EXCHANGE, malloc(sizeof(int32_t) * (size_t)n_rows));
    if (rows) ex->rows = malloc(sizeof(int32_t) * (size_t)n_rows);
    ex->use_record = malloc(sizeof *ex->use_record * (size_t)(ex->used ? ex->used : 1));
    ex->owner_of = malloc(sizeof(int32_t) * (size_t)n);
    ex->user_at = malloc(sizeof(int32_t) * (size_t)n_rows);
    ex->held = calloc((size_t)ex->size, sizeof *ex->held);
    ex->first_row = malloc(sizeof(int64_t) * (size_t)ex->size);
    ex->send_counts = calloc((size_t)ex->size * 4, sizeof(int));
    NnStatus status = NN_OK;
    if (!ex->order || (rows && !ex->rows) || !ex->use_record || !ex->owner_of || !ex->user_at ||
        !ex->held || !ex->first_row || !ex->send_counts)
        status = nn_fail(err, "out of memory for the sample exchange (%lld samples)",
                         (long long)n);
    status = nn_comm_agree(comm, status, err);
    if (status == NN_OK) {
        if (rows) {
            for (int64_t i = 0; i < n_rows; i++)
                NN_ASSERT(rows[i] >= 0 && rows[i] < n && (i == 0 || rows[i] > rows[i - 1]));
            memcpy(ex->rows, rows, sizeof(int32_t) * (size_t)n_rows);
        }
        for (int r = 0; r < ex->size; r++) {
            int64_t count;
            nn_shard_range(n, ex->size, r, &ex->first_row[r], &count);
        }
        for (int64_t i = 0; i < n; i++) ex->owner_of[i] = nn_shard_owner(n, ex->size, i);
        for (int64_t p = 0; p < n_rows; p++) ex->user_at[p] = nn_sampler_user(&ex->layout, p);
        ex->send_displs = ex->send_counts + ex->size;
        ex->recv_counts = ex->send_counts + 2 * ex->size;
        ex->recv_displs = ex->send_counts + 3 * ex->size;
        NN_MPI_CHECK(MPI_Type_contiguous((int)rec, MPI_BYTE, &ex->record_type));
        NN_MPI_CHECK(MPI_Type_commit(&ex->record_type));
        share_shard(ex, rec);
        /* Buffers for the samples that travel: none when every rank is on this node. */
        int node_size;
        NN_MPI_CHECK(MPI_Comm_size(ex->node, &node_size));
        int64_t sent = node_size == ex->size ? 0 : shard->count;
        int64_t received = node_size == ex->size ? 0 : ex->used;
        ex->send = malloc((size_t)((sent ? sent : 1) * rec));
        ex->recv = nn_fault_alloc(NN_STAGE_EXCHANGE_BUFFERS,
                                  malloc((size_t)((received ? received : 1) * rec)));
        if (!ex->send || !ex->recv)
            status = nn_fail(err, "out of memory for the sample exchange's buffers (%lld "
                                  "samples)",
                             (long long)(sent + received));
        status = nn_comm_agree(comm, status, err);
    }
    if (status != NN_OK) nn_exchange_free(ex);
    return status;
}

/* Where rank `owner` holds `item` when it is on this node, else NULL. */
static const uint8_t *held_record(const NnExchange *ex, int owner, int64_t item, int64_t rec)
{
    if (!ex->held[owner]) return NULL;
    return ex->held[owner] + (item - ex->first_row[owner]) * rec;
}

void nn_exchange_epoch(NnExchange *ex, int64_t epoch)
{
    int64_t n = ex->layout.n, rec = nn_samples_record_size(ex->shard);
    int P = ex->size, me = ex->rank;
    nn_sampler_permutation(ex->seed, epoch, n, ex->order);
    if (ex->rows) /* positions of the list of rows in use to rows */
        for (int64_t p = 0; p < n; p++) ex->order[p] = ex->rows[ex->order[p]];

    /* Only samples whose owner and user are on different nodes travel. */
    memset(ex->send_counts, 0, sizeof(int) * (size_t)P * 4);
    for (int64_t p = 0; p < n; p++) {
        int owner = ex->owner_of[ex->order[p]], user = ex->user_at[p];
        if (owner == me && !ex->held[user]) ex->send_counts[user]++;
        if (user == me && !ex->held[owner]) ex->recv_counts[owner]++;
    }
    for (int r = 1; r < P; r++) {
        ex->send_displs[r] = ex->send_displs[r - 1] + ex->send_counts[r - 1];
        ex->recv_displs[r] = ex->recv_displs[r - 1] + ex->recv_counts[r - 1];
    }
    /* Walking positions in order keeps each destination's samples in its order of use; the
     * k-th sample this rank uses is in place on its node or the next unread one from its
     * owner's segment. The displacement arrays double as cursors and are restored
     * afterwards. */
    int64_t k = 0;
    for (int64_t p = 0; p < n; p++) {
        int64_t item = ex->order[p];
        int owner = ex->owner_of[item], user = ex->user_at[p];
        if (user == me) {
            const uint8_t *held = held_record(ex, owner, item, rec);
            ex->use_record[k++] =
                held ? held : ex->recv + (int64_t)ex->recv_displs[owner]++ * rec;
        } else if (owner == me && !ex->held[user]) {
            memcpy(ex->send + (int64_t)ex->send_displs[user]++ * rec,
                   held_record(ex, me, item, rec), (size_t)rec);
        }
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

/* This rank's part of step `step`: [*first, *first + *count) of its samples in use order,
 * which are those at positions [*start, *start + *count) of the epoch. */
static void local_part(const NnExchange *ex, int64_t step, int64_t *first, int64_t *start,
                       int64_t *count)
{
    nn_sampler_part(&ex->layout, step, ex->rank, start, count);
    *first = step * ex->part; /* every step before the last is a full batch */
}

/* Records are read in random order, which hardware prefetchers cannot follow: each record's
 * cache lines are requested this many records ahead of its decoding. */
#define PREFETCH_AHEAD 4
#define CACHE_LINE 64

static void prefetch_record(const uint8_t *record, int64_t rec)
{
    for (int64_t at = 0; at < rec; at += CACHE_LINE) __builtin_prefetch(record + at);
    __builtin_prefetch(record + rec - 1);
}

int nn_exchange_batch(const NnExchange *ex, int64_t step, float *x, int32_t *labels,
                      float *targets)
{
    NN_ASSERT(ex->epoch >= 0);
    int64_t first, start, count, rec = nn_samples_record_size(ex->shard);
    int features = ex->shard->features, T = ex->shard->targets;
    local_part(ex, step, &first, &start, &count);
    const uint8_t **records = ex->use_record + first;
    for (int64_t i = 0; i < count && i < PREFETCH_AHEAD; i++) prefetch_record(records[i], rec);
    for (int64_t i = 0; i < count; i++) {
        if (i + PREFETCH_AHEAD < count) prefetch_record(records[i + PREFETCH_AHEAD], rec);
        const uint8_t *record = records[i];
        if (ex->augment.shift) /* by the sample's row of the split: any rank draws alike */
            record = nn_augment_record(&ex->augment, ex->epoch, ex->order[start + i], record,
                                       rec, ex->shifted);
        nn_record_decode(ex->shard, record, x + i * features, &labels[i],
                         T ? targets + i * T : NULL);
    }
    return (int)count;
}

NnStatus nn_exchange_set_augment(NnExchange *ex, const NnAugment *a, char err[NN_ERR_LEN])
{
    ex->augment = *a;
    if (a->shift == 0 || ex->shifted) return NN_OK;
    NN_ASSERT((int64_t)a->rows * a->cols == ex->shard->features &&
              a->elem == nn_feature_bytes(ex->shard->prep.type));
    ex->shifted = malloc((size_t)nn_samples_record_size(ex->shard));
    if (!ex->shifted) {
        ex->augment.shift = 0;
        return nn_fail(err, "out of memory for a shifted training record");
    }
    return NN_OK;
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
    if (ex->shared) {
        nn_node_window_free(&ex->win);
        NN_MPI_CHECK(MPI_Comm_free(&ex->node));
        NN_MPI_CHECK(MPI_Type_free(&ex->record_type));
    }
    free(ex->order);
    free(ex->rows);
    free(ex->send);
    free(ex->recv);
    free(ex->use_record);
    free(ex->owner_of);
    free(ex->user_at);
    free(ex->held);
    free(ex->first_row);
    free(ex->send_counts);
    free(ex->shifted);
    memset(ex, 0, sizeof *ex);
}
