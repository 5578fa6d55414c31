/* The HDF5 dataset: rank 0 writes small files with nn_dataset_write, then every rank reads
 * its shard with one collective read (run with -np 1..4; with 3 test rows at -np 4 one rank
 * has no rows and still joins the read). Reads of selected rows (a validation split) give
 * exactly a plain read's rows. Format 2 files (float features, any integer labels, no
 * classes, scale, mean and std) decode to the values written. Also the reader's errors. */
#include <hdf5.h>
#include <mpi.h>
#include <unistd.h>

#include "nn_test.h"
#include "nn_test_data.h"
#include "nnmpi/nn_dataset.h"
#include "nnmpi/nn_h5.h"
#include "nnmpi/nn_sampler.h"
#include "nnmpi/nn_splits.h"

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
    /* write_file's labels are drawn from 0..9 (nn_test_row), and its rows include a 9:
     * the writer's 'classes' attribute (largest label + 1) and the reader give 10. */
    CHECK(s->features == FEATURES && s->classes == 10);
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

/* ---- Format 2: rank 0 writes files with plain HDF5 calls, as h5py would. ---- */

enum { V2_F = 5, V2_TRAIN = 37, V2_TEST = 11 };

/* Feature j of row i of split s (0 train, 1 test), and its label. */
static float v2_feature(int s, int64_t i, int j) { return (float)((i * 7 + j * 3 + s) % 256); }
static int64_t v2_label(int s, int64_t i) { return (i * 5 + s) % 4; }

static void write_dataset(hid_t loc, const char *name, hid_t file_type, hid_t mem_type, int rank,
                          int64_t rows, int cols, const void *data)
{
    hsize_t dims[2] = {(hsize_t)rows, (hsize_t)cols};
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dset = H5Dcreate2(loc, name, file_type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    CHECK(dset >= 0 && H5Dwrite(dset, mem_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) >= 0);
    H5Dclose(dset);
    H5Sclose(space);
}

typedef struct {
    hid_t feature_type; /* H5T_STD_U8LE or H5T_IEEE_F32LE, H5T_IEEE_F64LE, ... */
    hid_t label_type;   /* any integer type, or a float type */
    int64_t classes;    /* 0: no attribute */
    double scale;       /* 0: no attribute */
    int mean_std;       /* 1: /mean and /std */
    int64_t top_row;    /* >= 0: this train row holds label `top` */
    int64_t top;
} V2File;

static void write_v2(const char *path, const V2File *v)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    MPI_Barrier(MPI_COMM_WORLD); /* no rank reads the previous file any more */
    if (rank == 0) {
        hid_t file = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
        char err[NN_ERR_LEN];
        CHECK(file >= 0 && nn_h5_attr_write_i64(file, "format_version", 2, err) == NN_OK);
        if (v->classes) nn_h5_attr_write_i64(file, "classes", v->classes, err);
        const char *names[2] = {"train", "test"};
        const int64_t rows[2] = {V2_TRAIN, V2_TEST};
        for (int s = 0; s < 2; s++) {
            float x[V2_TRAIN * V2_F];
            int64_t y[V2_TRAIN];
            for (int64_t i = 0; i < rows[s]; i++) {
                for (int j = 0; j < V2_F; j++) x[i * V2_F + j] = v2_feature(s, i, j);
                y[i] = s == 0 && i == v->top_row ? v->top : v2_label(s, i);
            }
            hid_t g = H5Gcreate2(file, names[s], H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
            write_dataset(g, "images", v->feature_type, H5T_NATIVE_FLOAT, 2, rows[s], V2_F, x);
            write_dataset(g, "labels", v->label_type, H5T_NATIVE_INT64, 1, rows[s], 1, y);
            if (v->scale != 0.0) {
                hid_t d = H5Dopen2(g, "images", H5P_DEFAULT);
                nn_h5_attr_write_f64(d, "scale", v->scale, err);
                H5Dclose(d);
            }
            H5Gclose(g);
        }
        if (v->mean_std) {
            float mean[V2_F] = {1, 2, 3, 4, 5}, std[V2_F] = {2, 0, 0.5f, 3, 7};
            write_dataset(file, "mean", H5T_IEEE_F32LE, H5T_NATIVE_FLOAT, 1, V2_F, 1, mean);
            write_dataset(file, "std", H5T_IEEE_F64LE, H5T_NATIVE_FLOAT, 1, V2_F, 1, std);
        }
        H5Fclose(file);
    }
    MPI_Barrier(MPI_COMM_WORLD);
}

/* Every record of a shard decodes to the values written: features through the
 * preprocessing (in float32, as documented), labels as written. */
static void check_v2_shard(const NnSamples *s, int split, const V2File *v)
{
    int uint8 = v->feature_type == H5T_STD_U8LE;
    CHECK(s->features == V2_F && s->prep.type == (uint8 ? NN_FEATURES_UINT8 : NN_FEATURES_FLOAT32));
    float scale = v->scale != 0.0 ? (float)v->scale : uint8 ? 1.0f / 255.0f : 1.0f;
    CHECK(s->prep.scale == scale);
    CHECK((s->prep.mean != NULL) == v->mean_std && (s->prep.std != NULL) == v->mean_std);
    const float mean[V2_F] = {1, 2, 3, 4, 5}, std[V2_F] = {2, 1, 0.5f, 3, 7}; /* 0 -> 1 */
    int64_t rec = nn_samples_record_size(s);
    int same = 1;
    for (int64_t i = 0; i < s->count; i++) {
        float x[V2_F];
        int32_t label = -1;
        nn_record_decode(s, s->records + i * rec, x, &label, NULL);
        int64_t row = s->start + i;
        for (int j = 0; j < V2_F; j++) {
            float want = v2_feature(split, row, j) * scale;
            if (v->mean_std) want = (want - mean[j]) / std[j];
            same &= memcmp(&x[j], &want, sizeof want) == 0;
        }
        same &= label == (split == 0 && row == v->top_row ? v->top : v2_label(split, row));
    }
    CHECK(same);
}

static void test_format_2(const char *path)
{
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    char err[NN_ERR_LEN] = "";
    NnSamples s;
    /* Label types, feature types, scale, mean and std. */
    const V2File files[] = {
        {H5T_IEEE_F32LE, H5T_STD_I64LE, 0, 0.0, 0, -1, 0},
        {H5T_IEEE_F32LE, H5T_STD_I8LE, 4, 0.0, 1, -1, 0},
        {H5T_IEEE_F64LE, H5T_STD_U16BE, 0, 0.5, 0, -1, 0},
        {H5T_STD_U8LE, H5T_STD_I32LE, 4, 0.0, 1, -1, 0},
        {H5T_STD_U8LE, H5T_STD_U64LE, 0, 0.125, 0, -1, 0},
        {H5T_STD_U8LE, H5T_STD_U8LE, 4, 0.0, 0, -1, 0},
        {H5T_STD_U8LE, H5T_STD_I64LE, 300, 0.0, 0, 30, 299}, /* labels beyond a byte */
    };
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        const V2File *v = &files[f];
        write_v2(path, v);
        for (int split = 0; split < 2; split++) {
            CHECK(nn_dataset_read(MPI_COMM_WORLD, path, split ? "test" : "train", 0, 1, &s,
                                  err) == NN_OK);
            if (err[0]) fprintf(stderr, "%s\n", err);
            CHECK(s.classes == v->classes);
            /* The compact layout for uint8 features and byte labels (MNIST's), else int32. */
            int compact = v->feature_type == H5T_STD_U8LE &&
                          (v->classes ? v->classes <= 256 : H5Tget_size(v->label_type) == 1);
            CHECK(s.label_bytes == (compact ? 1 : 4));
            check_v2_shard(&s, split, v);
            nn_samples_free(&s);
        }
        /* The probe (rank 0 alone) sees the same. */
        NnDataShape shape;
        CHECK(nn_dataset_probe(path, &shape, err) == NN_OK);
        int64_t classes = v->classes ? v->classes : 4;
        CHECK(shape.classes == classes && shape.classes_inferred == !v->classes);
        CHECK(shape.features == V2_F && shape.train_rows == V2_TRAIN);
        CHECK((shape.prep.mean != NULL) == v->mean_std);
        nn_data_shape_free(&shape);
    }

    /* Inferred classes: the largest label of all rows plus one, agreed by every rank, also
     * when the largest lies beyond [data] train_samples; the probe agrees. */
    V2File top = {H5T_IEEE_F32LE, H5T_STD_I64LE, 0, 0.0, 0, V2_TRAIN - 1, 6};
    write_v2(path, &top);
    NnConfig cfg;
    nn_config_defaults(&cfg);
    snprintf(cfg.data_path, sizeof cfg.data_path, "%s", path);
    cfg.train_samples = 20;
    NnSplits splits;
    CHECK(nn_splits_read(MPI_COMM_WORLD, &cfg, 1, &splits, err) == NN_OK);
    CHECK(splits.train.classes == 7 && splits.test.classes == 7 &&
          splits.validation.classes == 7);
    nn_splits_free(&splits);
    NnDataShape shape;
    CHECK(nn_dataset_probe(path, &shape, err) == NN_OK);
    CHECK(shape.classes == 7 && shape.classes_inferred && shape.max_label == 6);
    nn_data_shape_free(&shape);

    /* Errors name the file, the dataset and the row. */
    V2File out_of_range = {H5T_IEEE_F32LE, H5T_STD_U16LE, 4, 0.0, 0, 29, 4};
    write_v2(path, &out_of_range);
    CHECK(nn_dataset_read(MPI_COMM_WORLD, path, "train", 0, 1, &s, err) == NN_ERR);
    CHECK_CONTAINS(err, ": dataset /train/labels row 29 holds label 4, expected 0..3");
    V2File negative = {H5T_IEEE_F32LE, H5T_STD_I8LE, 0, 0.0, 0, 17, -3};
    write_v2(path, &negative);
    CHECK(nn_dataset_read(MPI_COMM_WORLD, path, "train", 0, 1, &s, err) == NN_ERR);
    CHECK_CONTAINS(err, ": dataset /train/labels row 17 holds label -3, expected a class number >= 0");
    if (rank == 0) {
        CHECK(nn_dataset_probe(path, &shape, err) == NN_ERR);
        CHECK_CONTAINS(err, "dataset /train/labels row 17 holds label -3");
    }
    V2File float_labels = {H5T_IEEE_F32LE, H5T_IEEE_F32LE, 4, 0.0, 0, -1, 0};
    write_v2(path, &float_labels);
    CHECK(nn_dataset_read(MPI_COMM_WORLD, path, "test", 0, 1, &s, err) == NN_ERR);
    CHECK_CONTAINS(err, "dataset /test/labels is float32; classification labels must be integers");
    V2File int_features = {H5T_STD_I16LE, H5T_STD_U8LE, 4, 0.0, 0, -1, 0};
    write_v2(path, &int_features);
    CHECK(nn_dataset_read(MPI_COMM_WORLD, path, "train", 0, 1, &s, err) == NN_ERR);
    CHECK_CONTAINS(err, "dataset /train/images is int16; features must be uint8 or float32");
    V2File plain = {H5T_IEEE_F32LE, H5T_STD_U8LE, 4, 0.0, 0, -1, 0};
    write_v2(path, &plain);
    if (rank == 0) {
        hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);
        nn_h5_attr_write_i64(f, "format_version", 3, err);
        H5Fclose(f);
    }
    MPI_Barrier(MPI_COMM_WORLD);
    CHECK(nn_dataset_read(MPI_COMM_WORLD, path, "train", 0, 1, &s, err) == NN_ERR);
    CHECK_CONTAINS(err, "dataset format version 3, this nn-mpi reads versions 1 to 2");
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
    test_format_2(path);
    CHECK(write_file(path, 50, 3, err) == NN_OK);

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
