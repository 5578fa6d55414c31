/* The per-epoch exchange, at any rank count (run with -np 1..5): every rank receives
 * exactly the rows the sampler assigns to it, in order, and together the ranks use every
 * training row exactly once per epoch; with a validation split held out
 * (nn_sampler_validation_split) no validation row is ever used. */
#include <mpi.h>

#include "nn_test.h"
#include "nn_test_data.h"
#include "nnmpi/nn_exchange.h"
#include "nnmpi/nn_sampler.h"

/* `held_out` rows of `total` form the validation split (0: none, every row trains). */
static void check_case(int64_t total, int64_t held_out, int64_t batch, int64_t chunk, int rank,
                       int size)
{
    const int features = 5, classes = 7;
    const uint64_t data_seed = 11;
    NnSamples shard = nn_test_samples(data_seed, total, features, classes, 1, rank, size);
    int64_t n = total - held_out; /* training rows */
    int32_t *train_rows = malloc(sizeof(int32_t) * (size_t)n);
    int32_t *val_rows = malloc(sizeof(int32_t) * (size_t)(held_out + 1));
    nn_sampler_validation_split(9, total, held_out, val_rows, train_rows);
    NnExchange ex;
    char err[NN_ERR_LEN];
    CHECK(nn_exchange_init(&ex, MPI_COMM_WORLD, &shard, held_out ? train_rows : NULL, n, batch,
                           chunk, 5, err) == NN_OK);
    int64_t steps = nn_sampler_steps(n, batch);
    float *x = malloc(sizeof(float) * (size_t)(batch * features));
    int32_t *labels = malloc(sizeof(int32_t) * (size_t)batch);
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)batch);
    int32_t *perm = malloc(sizeof(int32_t) * (size_t)n);
    int *uses = calloc((size_t)total, sizeof(int));
    uint8_t *expected = malloc((size_t)features + 1);

    for (int64_t epoch = 0; epoch < 3; epoch++) {
        nn_exchange_epoch(&ex, epoch);
        nn_sampler_permutation(5, epoch, n, perm);
        memset(uses, 0, sizeof(int) * (size_t)total);
        for (int64_t t = 0; t < steps; t++) {
            int rows = nn_exchange_batch(&ex, t, x, labels, NULL);
            int n_ids = nn_exchange_batch_ids(&ex, t, ids);
            int64_t start, count;
            NnBatchLayout layout = {n, batch, chunk, size};
            nn_sampler_part(&layout, t, rank, &start, &count);
            CHECK(rows == count && n_ids == count);
            for (int i = 0; i < rows; i++) {
                int64_t row = nn_test_row_id(x + i * features);
                CHECK(row == train_rows[perm[start + i]]); /* the sampler's row, in order */
                CHECK(row == ids[i]);
                if (row < 0 || row >= total) continue;
                uses[row]++;
                /* the whole record arrived intact */
                nn_test_row(data_seed, row, features, classes, expected);
                for (int j = 0; j < features; j++)
                    CHECK(x[i * features + j] == expected[j] * (1.0f / 255.0f));
                CHECK(labels[i] == expected[features]);
            }
        }
        MPI_Allreduce(MPI_IN_PLACE, uses, (int)total, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
        int exactly_once = 1, never = 1;
        for (int64_t i = 0; i < n; i++) exactly_once &= uses[train_rows[i]] == 1;
        for (int64_t i = 0; i < held_out; i++) never &= uses[val_rows[i]] == 0;
        CHECK(exactly_once); /* every training row once per epoch */
        CHECK(never);        /* no validation row, ever */
    }
    nn_exchange_free(&ex);
    nn_samples_free(&shard);
    free(x), free(labels), free(ids), free(perm), free(uses), free(expected);
    free(train_rows), free(val_rows);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    for (int64_t chunk = 1; chunk <= 4; chunk += 3) {
        check_case(103, 0, 10, chunk, rank, size); /* smaller last batch */
        check_case(25, 0, 7, chunk, rank, size);   /* batch not divisible by the rank count */
        check_case(9, 0, 2, chunk, rank, size);    /* ranks with empty parts */
        check_case(3, 0, 64, chunk, rank, size);   /* fewer rows than ranks, batch > data */
        check_case(700, 0, 700, chunk, rank, size);
        /* A validation split held out: its rows sit unused in the shards. */
        check_case(103, 17, 10, chunk, rank, size);
        check_case(25, 24, 7, chunk, rank, size); /* one training row */
        check_case(9, 4, 2, chunk, rank, size);
        check_case(700, 350, 64, chunk, rank, size);
    }
    MPI_Allreduce(MPI_IN_PLACE, &nn_test_failures, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    int status = rank == 0 ? nn_test_finish("test_exchange") : (nn_test_failures != 0);
    MPI_Finalize();
    return status;
}
