/* Augmentation by random translations ([data] augment; run with -np 1, 3, 4): the shift of
 * a known image by a given offset, with zero fill, for uint8 and float32 pixels; the
 * offsets: in range, uniform, a pure function of (seed, epoch, row), new in every epoch;
 * the image shape and the refusals. Then the trainer's batches at any rank count: every
 * sample is its stored row moved by the offset of (seed, epoch, its row of the split), then
 * scaled and normalised (float features with mean and std too), and evaluation is the
 * unaugmented trainer's, bit for bit. */
#include <mpi.h>

#include "nn_test.h"
#include "nn_test_data.h"
#include "nnmpi/nn_augment.h"
#include "nnmpi/nn_trainer.h"

/* A 3 x 4 image with pixels 1 .. 12, moved by (dx, dy), against the expected picture. */
static void check_shift(int dx, int dy, const uint8_t want[12])
{
    uint8_t in[12], out[12];
    float fin[12], fout[12];
    for (int i = 0; i < 12; i++) in[i] = (uint8_t)(i + 1), fin[i] = (float)(i + 1) + 0.5f;
    memset(out, 0xee, sizeof out);
    nn_augment_shift(in, out, 3, 4, 1, dx, dy);
    CHECK(memcmp(out, want, 12) == 0);
    nn_augment_shift((const uint8_t *)fin, (uint8_t *)fout, 3, 4, 4, dx, dy);
    for (int i = 0; i < 12; i++) CHECK(fout[i] == (want[i] ? (float)want[i] + 0.5f : 0.0f));
}

static void test_shift(void)
{
    const uint8_t same[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    check_shift(0, 0, same);
    const uint8_t right[12] = {0, 1, 2, 3, 0, 5, 6, 7, 0, 9, 10, 11};
    check_shift(1, 0, right);
    const uint8_t left_down[12] = {0, 0, 0, 0, 2, 3, 4, 0, 6, 7, 8, 0};
    check_shift(-1, 1, left_down);
    const uint8_t up_right2[12] = {0, 0, 9, 10, 0, 0, 0, 0, 0, 0, 0, 0};
    check_shift(2, -2, up_right2);
    const uint8_t none[12] = {0};
    check_shift(4, 0, none); /* everything shifted out */
    check_shift(0, -3, none);
}

static void test_offsets(void)
{
    enum { ROWS = 10000, S = 2, SIDE = 2 * S + 1 };
    int counts[SIDE][SIDE] = {{0}}, same_next_epoch = 0, same_other_seed = 0;
    for (int64_t row = 0; row < ROWS; row++) {
        int dx, dy, dx1, dy1, dx2, dy2, again_x, again_y;
        nn_augment_offset(7, 3, row, S, &dx, &dy);
        CHECK(dx >= -S && dx <= S && dy >= -S && dy <= S);
        if (dx < -S || dx > S || dy < -S || dy > S) continue;
        counts[dx + S][dy + S]++;
        nn_augment_offset(7, 3, row, S, &again_x, &again_y); /* pure */
        CHECK(again_x == dx && again_y == dy);
        nn_augment_offset(7, 4, row, S, &dx1, &dy1);
        same_next_epoch += dx1 == dx && dy1 == dy;
        nn_augment_offset(8, 3, row, S, &dx2, &dy2);
        same_other_seed += dx2 == dx && dy2 == dy;
    }
    for (int i = 0; i < SIDE; i++) /* 400 each */
        for (int j = 0; j < SIDE; j++) CHECK(counts[i][j] > 320 && counts[i][j] < 480);
    /* Independent draws agree 1 time in 25: 400 of 10000. */
    printf("offsets: the same in the next epoch for %d of %d rows, with another seed %d\n",
           same_next_epoch, ROWS, same_other_seed);
    CHECK(same_next_epoch > 300 && same_next_epoch < 500);
    CHECK(same_other_seed > 300 && same_other_seed < 500);
}

static void test_init(void)
{
    NnSamples s = {.features = 16, .prep = nn_preprocess_default(16)};
    NnAugment a;
    char err[NN_ERR_LEN];
    CHECK(nn_augment_init(&a, 0, 1, &s, "d.h5", err) == NN_OK && a.shift == 0);
    CHECK(nn_augment_init(&a, 2, 1, &s, "d.h5", err) == NN_OK); /* a square */
    CHECK(a.shift == 2 && a.rows == 4 && a.cols == 4 && a.elem == 1 && a.seed == 1);
    s.features = 12;
    CHECK(nn_augment_init(&a, 2, 1, &s, "d.h5", err) == NN_ERR);
    CHECK_STREQ(err, "[data] augment = 2 needs images: d.h5 has 12 features per row, not a "
                     "square, and /train/images has no image_shape attribute (rows, cols); "
                     "nn-mpi-data writes one, or set [data] augment = 0");
    s.image_rows = 3, s.image_cols = 4; /* the attribute */
    s.prep.type = NN_FEATURES_FLOAT32;
    CHECK(nn_augment_init(&a, 2, 1, &s, "d.h5", err) == NN_OK);
    CHECK(a.rows == 3 && a.cols == 4 && a.elem == 4);
    CHECK(nn_augment_init(&a, 3, 1, &s, "d.h5", err) == NN_ERR);
    CHECK_STREQ(err, "[data] augment = 3: must be less than the 3 x 4 images' sides (d.h5)");
    s.image_rows = s.image_cols = -1;
    CHECK(nn_augment_init(&a, 1, 1, &s, "d.h5", err) == NN_ERR);
    CHECK_STREQ(err, "[data] augment = 1: d.h5: the image_shape attribute of /train/images is "
                     "not (rows, cols) with rows x cols = 12 features");
}

enum { SIDE = 5, FEATURES = SIDE * SIDE, CLASSES = 4, TOTAL = 41, HELD_OUT = 6 };

static NnConfig test_config(int reproducible, int augment)
{
    NnConfig cfg;
    nn_config_defaults(&cfg);
    cfg.reproducible = reproducible;
    cfg.chunk_size = 3;
    cfg.hidden = (NnIntList){1, {6}};
    cfg.batch_size = 8;
    cfg.seed = 13;
    cfg.augment = augment;
    return cfg;
}

static NnSplits splits_for(const NnConfig *cfg, int float_features, int rank, int size)
{
    NnSplits s = nn_test_splits(cfg->seed, TOTAL, HELD_OUT, 11, FEATURES, CLASSES,
                                nn_trainer_test_unit(cfg), rank, size);
    if (float_features) {
        nn_test_to_float(&s.train, 1);
        nn_test_to_float(&s.test, 1);
        nn_test_to_float(&s.validation, 1);
    }
    return s;
}

/* Every batch of two epochs against the stored rows moved by their offsets. */
static void check_batches(int reproducible, int float_features)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    NnConfig cfg = test_config(reproducible, 2), plain = test_config(reproducible, 0);
    NnSplits splits = splits_for(&cfg, float_features, rank, size);
    NnSplits all = splits_for(&cfg, float_features, 0, 1); /* every row, for the expected */
    NnTrainer t, u;
    char err[NN_ERR_LEN];
    CHECK(nn_trainer_init(&t, MPI_COMM_WORLD, &cfg, &splits, err) == NN_OK);
    splits = splits_for(&plain, float_features, rank, size);
    CHECK(nn_trainer_init(&u, MPI_COMM_WORLD, &plain, &splits, err) == NN_OK);
    int64_t rec = nn_samples_record_size(&all.train);
    uint8_t *moved = malloc((size_t)rec);
    float *x = malloc(sizeof(float) * FEATURES * (size_t)cfg.batch_size);
    float expected[FEATURES];
    int32_t labels[64], ids[64], label = -1;
    int64_t samples = 0, changed = 0;
    for (int64_t e = 0; e < 2; e++) {
        nn_trainer_begin_epoch(&t, e);
        for (int64_t s = 0; s < t.steps_per_epoch; s++) {
            int rows = nn_exchange_batch(&t.exchange, s, x, labels, NULL);
            CHECK(nn_exchange_batch_ids(&t.exchange, s, ids) == rows);
            for (int i = 0; i < rows; i++) {
                const uint8_t *stored = all.train.records + ids[i] * rec;
                nn_augment_record(&t.exchange.augment, e, ids[i], stored, rec, moved);
                nn_record_decode(&all.train, moved, expected, &label, NULL);
                CHECK(memcmp(x + i * FEATURES, expected, sizeof expected) == 0);
                CHECK(labels[i] == label);
                nn_record_decode(&all.train, stored, expected, &label, NULL);
                changed += memcmp(x + i * FEATURES, expected, sizeof expected) != 0;
                samples++;
            }
            nn_trainer_step(&t, s, 0.1f, 0);
        }
    }
    MPI_Allreduce(MPI_IN_PLACE, &samples, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    MPI_Allreduce(MPI_IN_PLACE, &changed, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    CHECK(samples == 2 * (TOTAL - HELD_OUT));
    CHECK(changed > samples * 3 / 4); /* 24 of 25 offsets move the picture */

    /* Evaluation never shifts: the augmenting trainer, given the other's weights, evaluates
     * the test and validation splits to the same bits. */
    if (t.sums.node_rank == 0) /* the node's shared weights */
        memcpy(t.model.params, u.model.params, sizeof(float) * t.model.n_params);
    nn_reduce_publish(&t.sums);
    for (int which = NN_SPLIT_TEST; which <= NN_SPLIT_VALIDATION; which++) {
        NnEvalResult a = nn_trainer_evaluate(&t, (NnSplit)which);
        NnEvalResult b = nn_trainer_evaluate(&u, (NnSplit)which);
        CHECK(a.samples > 0 && a.mean_loss == b.mean_loss && a.accuracy == b.accuracy);
    }
    if (rank == 0)
        printf("np %d, %s mode, %s features: %lld samples as shifted, %lld of them moved; "
               "evaluation unshifted\n",
               size, reproducible ? "reproducible" : "plain", float_features ? "float32" : "uint8",
               (long long)samples, (long long)changed);
    nn_trainer_free(&t);
    nn_trainer_free(&u);
    nn_splits_free(&all);
    free(moved);
    free(x);
}

/* A non-square feature count without a shape is refused on every rank. */
static void check_refusal(void)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    NnConfig cfg = test_config(0, 1);
    NnSplits splits = nn_test_splits(cfg.seed, TOTAL, 0, 11, 12, CLASSES, 1, rank, size);
    NnTrainer t;
    char err[NN_ERR_LEN] = "";
    CHECK(nn_trainer_init(&t, MPI_COMM_WORLD, &cfg, &splits, err) == NN_ERR);
    CHECK_CONTAINS(err, "[data] augment = 1 needs images");
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) {
        test_shift();
        test_offsets();
        test_init();
    }
    for (int reproducible = 0; reproducible <= 1; reproducible++)
        for (int float_features = 0; float_features <= 1; float_features++)
            check_batches(reproducible, float_features);
    check_refusal();
    MPI_Allreduce(MPI_IN_PLACE, &nn_test_failures, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    int status = rank == 0 ? nn_test_finish("test_augment") : (nn_test_failures != 0);
    MPI_Finalize();
    return status;
}
