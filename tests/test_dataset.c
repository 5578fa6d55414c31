/* The HDF5 dataset: rank 0 writes small files with nn_dataset_write, then every rank reads
 * its shard with one collective read (run with -np 1..4; with 3 test rows at -np 4 one rank
 * has no rows and still joins the read). Reads of selected rows (a validation split) give
 * exactly a plain read's rows. Also the reader's errors. */
#include <hdf5.h>
#include <mpi.h>
#include <unistd.h>

#include "nn_test.h"
#include "nn_test_data.h"
#include "nnmpi/nn_dataset.h"
#include "nnmpi/nn_h5.h"
#include "nnmpi/nn_sampler.h"

enum { ROWS = 4, COLS = 3, FEATURES = ROWS * COLS };

/* An IDX-like array of `count` synthetic rows: images, or the matching labels. */
static NnIdxArray make_array(uint64_t seed, int64_t count, int images)
{
    NnIdxArray a = {.count = count, .rows = images ? ROWS : 1, .cols = images ? COLS : 1};
    a.data = malloc((size_t)(count * FEATURES + 1));
    uint8_t record[FEATURES + 1];
    for (int64_t i = 0; i < count; i++) {
        nn_test_row(seed, i, FEATURES, 10, record);
        if (images)
            memcpy(a.data + i * FEATURES, record, FEATURES);
        else
            a.data[i] = record[FEATURES];
    }
    return a;
}

/* Rank 0 writes path with `train` and `test` rows; every rank waits for it. */
static NnStatus write_file(const char *path, int64_t train, int64_t test, char err[NN_ERR_LEN])
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    NnStatus status = NN_OK;
    if (rank == 0) {
        NnIdxArray a[4] = {make_array(1, train, 1), make_array(1, train, 0),
                           make_array(2, test, 1), make_array(2, test, 0)};
        status = nn_dataset_write(path, &a[0], &a[1], &a[2], &a[3], "test", err);
        for (int i = 0; i < 4; i++) nn_idx_free(&a[i]);
    }
    MPI_Bcast(&status, 1, MPI_INT, 0, MPI_COMM_WORLD);
    return status;
}

static void check_shard(const NnSamples *s, uint64_t seed, int64_t total, int64_t unit)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    int64_t start, count;
    nn_shard_range_units(total, unit, size, rank, &start, &count);
    CHECK(s->total == total && s->start == start && s->count == count);
    CHECK(s->features == FEATURES && s->classes >= 2);
    uint8_t expected[FEATURES + 1];
    for (int64_t i = 0; i < s->count; i++) {
        nn_test_row(seed, s->start + i, FEATURES, 10, expected);
        CHECK(memcmp(s->records + i * (FEATURES + 1), expected, FEATURES + 1) == 0);
    }
    int64_t rows = s->count;
    MPI_Allreduce(MPI_IN_PLACE, &rows, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    CHECK(rows == total); /* every row read by exactly one rank */
}

/* Reads this rank's part of the sorted rows list[0..n) of the train split and compares it
 * with `all`, the whole split read plainly by this rank alone. */
static void check_rows(const char *path, const NnSamples *all, const int32_t *list, int64_t n,
                       int64_t unit)
{
    int rank, size;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    NnSamples s;
    char err[NN_ERR_LEN];
    CHECK(nn_dataset_read_rows(MPI_COMM_WORLD, path, "train", list, n, unit, &s, err) == NN_OK);
    int64_t start, count;
    nn_shard_range_units(n, unit, size, rank, &start, &count);
    CHECK(s.total == n && s.start == start && s.count == count);
    CHECK(s.features == all->features && s.classes == all->classes);
    int64_t rec = nn_samples_record_size(all);
    int same = 1;
    for (int64_t i = 0; i < s.count; i++)
        same &= memcmp(s.records + i * rec, all->records + list[s.start + i] * rec,
                       (size_t)rec) == 0;
    CHECK(same);
    int64_t rows = s.count;
    MPI_Allreduce(MPI_IN_PLACE, &rows, 1, MPI_INT64_T, MPI_SUM, MPI_COMM_WORLD);
    CHECK(rows == n); /* every listed row read by exactly one rank */
    nn_samples_free(&s);
}

static void test_selected_rows(const char *path)
{
    NnSamples all;
    char err[NN_ERR_LEN];
    CHECK(nn_dataset_read(MPI_COMM_SELF, path, "train", 0, 1, &all, err) == NN_OK);
    CHECK(all.total == 50 && all.count == 50);
    const int32_t runs[] = {0, 1, 2, 3, 10, 11, 20, 30, 31, 32, 48, 49}; /* first, last row */
    int32_t every[50], val[17], rest[50 - 17];
    for (int i = 0; i < 50; i++) every[i] = i;
    nn_sampler_validation_split(4, 50, 17, val, rest);
    for (int64_t unit = 1; unit <= 3; unit += 2) {
        check_rows(path, &all, runs, 12, unit);
        check_rows(path, &all, val, 17, unit);
        check_rows(path, &all, rest, 50 - 17, unit);
        check_rows(path, &all, every, 50, unit);
        check_rows(path, &all, runs + 11, 1, unit); /* one row: most ranks have none */
        check_rows(path, &all, runs, 0, unit);      /* no rows at all */
    }
    nn_samples_free(&all);
    NnSamples s;
    const int32_t beyond[] = {3, 50};
    CHECK(nn_dataset_read_rows(MPI_COMM_WORLD, path, "train", beyond, 2, 1, &s, err) == NN_ERR);
    CHECK_CONTAINS(err, "row 50 of /train/images requested but it has only 50 rows");
}

/* Rank 0 changes the file with plain HDF5 calls, to make it bad in one way. */
static void damage(const char *path, const char *how)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    if (rank == 0) {
        hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
        if (strcmp(how, "classes") == 0) {
            char err[NN_ERR_LEN];
            nn_h5_attr_write_i64(f, "classes", 2, err);
        } else if (strcmp(how, "float") == 0) {
            H5Ldelete(f, "/test/labels", H5P_DEFAULT);
            hsize_t dims[1] = {3};
            float v[3] = {0, 1, 2};
            char err[NN_ERR_LEN];
            nn_h5_write_f32(f, "/test/labels", 1, dims, v, err);
        } else if (strcmp(how, "nolabels") == 0) {
            H5Ldelete(f, "/train/labels", H5P_DEFAULT);
        }
        H5Fclose(f);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    nn_h5_silence();
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    char path[256], err[NN_ERR_LEN] = "";
    /* One name for all ranks: rank 0's pid. */
    long pid = (long)getpid();
    MPI_Bcast(&pid, 1, MPI_LONG, 0, MPI_COMM_WORLD);
    snprintf(path, sizeof path, "/tmp/nn_test_dataset_%ld.h5", pid);

    CHECK(write_file(path, 50, 3, err) == NN_OK);
    if (err[0]) fprintf(stderr, "%s\n", err);
    NnSamples s;
    CHECK(nn_dataset_read(MPI_COMM_WORLD, path, "train", 0, 1, &s, err) == NN_OK);
    check_shard(&s, 1, 50, 1);
    nn_samples_free(&s);
    CHECK(nn_dataset_read(MPI_COMM_WORLD, path, "test", 0, 1, &s, err) == NN_OK);
    check_shard(&s, 2, 3, 1); /* fewer rows than ranks at -np 4 */
    nn_samples_free(&s);
    CHECK(nn_dataset_read(MPI_COMM_WORLD, path, "train", 7, 1, &s, err) == NN_OK);
    check_shard(&s, 1, 7, 1); /* the first 7 rows only */
    nn_samples_free(&s);
    CHECK(nn_dataset_read(MPI_COMM_WORLD, path, "train", 0, 8, &s, err) == NN_OK);
    check_shard(&s, 1, 50, 8); /* whole units of 8 rows */
    CHECK(s.count == 0 || s.start % 8 == 0);
    nn_samples_free(&s);
    test_selected_rows(path);

    /* The optional /validation split: absent here, present once rank 0 adds the group. */
    int has = -1;
    CHECK(nn_dataset_has_split(MPI_COMM_WORLD, path, "validation", &has, err) == NN_OK);
    CHECK(has == 0);
    if (rank == 0) {
        hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
        hid_t g = H5Gcreate2(f, "validation", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        CHECK(f >= 0 && g >= 0);
        H5Gclose(g);
        H5Fclose(f);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    CHECK(nn_dataset_has_split(MPI_COMM_WORLD, path, "validation", &has, err) == NN_OK);
    CHECK(has == 1);
    CHECK(nn_dataset_has_split(MPI_COMM_WORLD, "/nonexistent.h5", "validation", &has, err) ==
          NN_ERR);
    CHECK(strcmp(err, "rank 0: /nonexistent.h5: cannot open: No such file or directory") == 0);

    /* Errors: every rank fails alike, with the first failing rank's message. */
    CHECK(nn_dataset_read(MPI_COMM_WORLD, path, "train", 51, 1, &s, err) == NN_ERR);
    CHECK_CONTAINS(err, "51 train samples requested but /train/images has only 50 rows");
    CHECK(nn_dataset_read(MPI_COMM_WORLD, "/nonexistent.h5", "train", 0, 1, &s, err) == NN_ERR);
    CHECK(strcmp(err, "rank 0: /nonexistent.h5: cannot open: No such file or directory") == 0);
    CHECK(nn_dataset_read(MPI_COMM_WORLD, "/etc/hostname", "train", 0, 1, &s, err) == NN_ERR);
    CHECK_CONTAINS(err, "/etc/hostname: not an HDF5 file, or damaged");
    CHECK(nn_dataset_read(MPI_COMM_WORLD, path, "validation", 0, 1, &s, err) == NN_ERR);
    CHECK_CONTAINS(err, "dataset /validation/images is missing");

    damage(path, "classes"); /* labels up to 9 but classes = 2: the rank holding one fails */
    CHECK(nn_dataset_read(MPI_COMM_WORLD, path, "train", 0, 1, &s, err) == NN_ERR);
    CHECK_CONTAINS(err, "dataset /train/labels row");
    CHECK_CONTAINS(err, "expected 0..1");
    damage(path, "float");
    CHECK(nn_dataset_read(MPI_COMM_WORLD, path, "test", 0, 1, &s, err) == NN_ERR);
    CHECK_CONTAINS(err, "dataset /test/labels is float32; classification labels must be "
                        "integers");
    damage(path, "nolabels");
    CHECK(nn_dataset_read(MPI_COMM_WORLD, path, "train", 0, 1, &s, err) == NN_ERR);
    CHECK_CONTAINS(err, "dataset /train/labels is missing");

    /* The writer refuses mismatched counts and leaves nothing behind. */
    if (rank == 0) {
        NnIdxArray images = make_array(1, 5, 1), labels = make_array(1, 4, 0);
        char other[300];
        snprintf(other, sizeof other, "%s.bad", path);
        CHECK(nn_dataset_write(other, &images, &labels, &images, &labels, "x", err) == NN_ERR);
        CHECK(strcmp(err, "train split: 5 images but 4 labels") == 0);
        CHECK(access(other, F_OK) != 0);
        nn_idx_free(&images);
        nn_idx_free(&labels);
        unlink(path);
    }
    MPI_Allreduce(MPI_IN_PLACE, &nn_test_failures, 1, MPI_INT, MPI_SUM, MPI_COMM_WORLD);
    int status = rank == 0 ? nn_test_finish("test_dataset") : (nn_test_failures != 0);
    MPI_Finalize();
    return status;
}
