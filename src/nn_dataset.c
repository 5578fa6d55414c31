#include "nnmpi/nn_dataset.h"

#include <errno.h>
#include <hdf5.h>
#include <string.h>
#include <unistd.h>

#include "nnmpi/nn_atomic_file.h"
#include "nnmpi/nn_comm.h"
#include "nnmpi/nn_fault.h"
#include "nnmpi/nn_h5.h"
#include "nnmpi/nn_shard.h"

#define CHUNK_ROWS 1024

/* Opens dataset name and checks it is uint8 with `rank` dimensions; fills dims. */
static hid_t open_uint8(hid_t file, const char *path, const char *name, int rank, hsize_t *dims,
                        char err[NN_ERR_LEN])
{
    if (!nn_h5_exists(file, name)) {
        nn_fail(err, "%s: dataset %s is missing", path, name);
        return -1;
    }
    hid_t dset = H5Dopen2(file, name, H5P_DEFAULT);
    if (dset < 0) {
        nn_fail(err, "%s: cannot open dataset %s", path, name);
        return -1;
    }
    hid_t type = H5Dget_type(dset), space = H5Dget_space(dset);
    int ok_type = type >= 0 && H5Tget_class(type) == H5T_INTEGER && H5Tget_size(type) == 1 &&
                  H5Tget_sign(type) == H5T_SGN_NONE;
    int have_rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (have_rank == rank) H5Sget_simple_extent_dims(space, dims, NULL);
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (!ok_type || have_rank != rank) {
        H5Dclose(dset);
        if (!ok_type)
            nn_fail(err, "%s: dataset %s is not of type uint8", path, name);
        else
            nn_fail(err, "%s: dataset %s has %d dimensions, expected %d", path, name, have_rank,
                    rank);
        return -1;
    }
    return dset;
}

/* The root's 'classes' attribute (10 when absent), checked. */
static NnStatus read_classes(hid_t file, const char *path, int64_t *classes, char err[NN_ERR_LEN])
{
    *classes = NN_DEFAULT_CLASSES;
    if (H5Aexists(file, "classes") > 0 &&
        nn_h5_attr_read_i64(file, "classes", classes, err) != NN_OK)
        return NN_ERR;
    if (*classes < 2 || *classes > 256)
        return nn_fail(err, "%s: attribute 'classes' is %lld, expected 2..256", path,
                       (long long)*classes);
    return NN_OK;
}

/* Selects rows [first, first + count) of a file space, columns [0, width). */
static herr_t select_block(hid_t space, H5S_seloper_t op, int64_t first, int64_t count,
                           int width)
{
    hsize_t start[2] = {(hsize_t)first, 0}, block[2] = {(hsize_t)count, (hsize_t)width};
    return H5Sselect_hyperslab(space, op, start, NULL, block, NULL);
}

/* A copy of `space` that selects the rows in the ascending list rows[0..n) (n >= 1),
 * columns [0, width): the union of their runs of consecutive rows, or -1. HDF5 walks the
 * whole selection for every block added to it, so adding k runs one by one costs O(k^2)
 * (seconds for tens of thousands); halves are built apart and joined with one union each,
 * which costs O(k log k). */
static hid_t select_row_list(hid_t space, const int32_t *rows, int64_t n, int width)
{
    if (n > 64) {
        hid_t low = select_row_list(space, rows, n / 2, width);
        hid_t high = low >= 0 ? select_row_list(space, rows + n / 2, n - n / 2, width) : -1;
        hid_t both = high >= 0 ? H5Scombine_select(low, H5S_SELECT_OR, high) : -1;
        if (low >= 0) H5Sclose(low);
        if (high >= 0) H5Sclose(high);
        return both;
    }
    hid_t copy = H5Scopy(space);
    H5S_seloper_t op = H5S_SELECT_SET;
    for (int64_t i = 0; copy >= 0 && i < n;) {
        int64_t run = 1;
        while (i + run < n && rows[i + run] == rows[i] + run) run++;
        if (select_block(copy, op, rows[i], run, width) < 0) {
            H5Sclose(copy);
            return -1;
        }
        op = H5S_SELECT_OR;
        i += run;
    }
    return copy;
}

/* Collective read of this rank's rows into the records' columns [column, column + width)
 * of dset (1-D, or 2-D with width columns): rows [start, start + count) of the split, or
 * with `rows`, the rows rows[start .. start + count) (ascending), selected as the union of
 * their runs of consecutive rows. A rank with no rows selects nothing but still joins the
 * read. */
static herr_t read_rows(hid_t dset, hid_t dxpl, const NnSamples *s, const int32_t *rows,
                        int column, int width)
{
    hsize_t mem_dims[2] = {s->count ? (hsize_t)s->count : 1,
                           (hsize_t)nn_samples_record_size(s)};
    hid_t mem = H5Screate_simple(2, mem_dims, NULL);
    hid_t file = H5Dget_space(dset);
    herr_t r = -1;
    if (mem < 0 || file < 0) goto done;
    if (s->count == 0) {
        if (H5Sselect_none(mem) < 0 || H5Sselect_none(file) < 0) goto done;
    } else {
        hsize_t mem_start[2] = {0, (hsize_t)column};
        hsize_t mem_count[2] = {(hsize_t)s->count, (hsize_t)width};
        if (H5Sselect_hyperslab(mem, H5S_SELECT_SET, mem_start, NULL, mem_count, NULL) < 0)
            goto done;
        if (!rows) {
            if (select_block(file, H5S_SELECT_SET, s->start, s->count, width) < 0) goto done;
        } else {
            /* Both selections are visited in ascending row order, so the k-th selected row
             * of the file lands in the k-th record. */
            hid_t list = select_row_list(file, rows + s->start, s->count, width);
            H5Sclose(file);
            file = list;
            if (file < 0) goto done;
        }
    }
    r = H5Dread(dset, H5T_NATIVE_UCHAR, mem, file, dxpl, s->records);
done:
    if (mem >= 0) H5Sclose(mem);
    if (file >= 0) H5Sclose(file);
    return r;
}

/* Opens path for parallel reading (collective over comm). */
static NnStatus open_file(MPI_Comm comm, const char *path, hid_t *fapl, hid_t *file,
                          char err[NN_ERR_LEN])
{
    *fapl = *file = -1;
    if (nn_file_check_regular(path, NULL, err) != NN_OK) return NN_ERR;
    *fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (*fapl < 0 || H5Pset_fapl_mpio(*fapl, comm, MPI_INFO_NULL) < 0)
        return nn_fail(err, "%s: cannot set up parallel HDF5 access", path);
    *file = H5Fopen(path, H5F_ACC_RDONLY, *fapl);
    if (*file < 0) return nn_fail(err, "%s: not an HDF5 file, or damaged", path);
    return NN_OK;
}

/* nn_dataset_read (rows NULL) and nn_dataset_read_rows. */
static NnStatus read_split(MPI_Comm comm, const char *path, const char *split, int64_t limit,
                           const int32_t *rows, int64_t n_rows, int64_t unit, NnSamples *out,
                           char err[NN_ERR_LEN])
{
    int rank, size;
    NN_MPI_CHECK(MPI_Comm_rank(comm, &rank));
    NN_MPI_CHECK(MPI_Comm_size(comm, &size));
    memset(out, 0, sizeof *out);
    char images_name[64], labels_name[64];
    snprintf(images_name, sizeof images_name, "/%s/images", split);
    snprintf(labels_name, sizeof labels_name, "/%s/labels", split);

    NnStatus status = NN_ERR;
    int agreed = 0; /* a failure before the reads is agreed on there */
    hid_t fapl = -1, file = -1, images = -1, labels = -1, dxpl = -1;
    if (open_file(comm, path, &fapl, &file, err) != NN_OK) goto agree;
    int64_t classes;
    if (read_classes(file, path, &classes, err) != NN_OK) goto agree;
    hsize_t image_dims[2], label_dims[1];
    images = open_uint8(file, path, images_name, 2, image_dims, err);
    if (images < 0) goto agree;
    labels = open_uint8(file, path, labels_name, 1, label_dims, err);
    if (labels < 0) goto agree;
    if (label_dims[0] != image_dims[0]) {
        nn_fail(err, "%s: dataset %s has %llu rows but %s has %llu", path, labels_name,
                (unsigned long long)label_dims[0], images_name,
                (unsigned long long)image_dims[0]);
        goto agree;
    }
    if (image_dims[1] < 1 || image_dims[1] > NN_DATASET_MAX_FEATURES) {
        nn_fail(err, "%s: dataset %s has %llu columns, expected 1 .. %lld", path, images_name,
                (unsigned long long)image_dims[1], (long long)NN_DATASET_MAX_FEATURES);
        goto agree;
    }
    int64_t split_rows = (int64_t)image_dims[0];
    if (limit > split_rows) {
        nn_fail(err, "%s: %lld %s samples requested but %s has only %lld rows", path,
                (long long)limit, split, images_name, (long long)split_rows);
        goto agree;
    }
    if (split_rows > NN_DATASET_MAX_ROWS) {
        nn_fail(err, "%s: dataset %s has %lld rows, at most %lld supported", path, images_name,
                (long long)split_rows, (long long)NN_DATASET_MAX_ROWS);
        goto agree;
    }
    if (rows && n_rows > 0 && rows[n_rows - 1] >= split_rows) {
        nn_fail(err, "%s: row %lld of %s requested but it has only %lld rows", path,
                (long long)rows[n_rows - 1], images_name, (long long)split_rows);
        goto agree;
    }
    out->total = rows ? n_rows : limit > 0 ? limit : split_rows;
    out->features = (int)image_dims[1];
    out->classes = (int)classes;
    nn_shard_range_units(out->total, unit, size, rank, &out->start, &out->count);
    int64_t bytes = (out->count ? out->count : 1) * nn_samples_record_size(out);
    out->records = malloc((size_t)bytes);
    if (strcmp(split, "train") == 0 && !rows)
        out->records = nn_fault_alloc(NN_STAGE_DATASET, out->records);
    if (!out->records) {
        nn_fail(err, "out of memory for %lld bytes of %s samples", (long long)bytes, split);
        goto agree;
    }
    dxpl = H5Pcreate(H5P_DATASET_XFER);
    if (dxpl < 0 || H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) < 0) {
        nn_fail(err, "cannot set up collective HDF5 reads");
        goto agree;
    }
    status = NN_OK;
agree:
    /* Agree, then read or close (nn_status.h): both are collective, and one rank's failure
     * (its rows' allocation) must not leave the others waiting in H5Dread. */
    status = nn_comm_agree(comm, status, err);
    if (status != NN_OK) {
        agreed = 1;
        goto done;
    }
    status = NN_ERR;
    const char *names[2] = {images_name, labels_name};
    hid_t dsets[2] = {images, labels};
    for (int d = 0; d < 2; d++) {
        int column = d == 0 ? 0 : out->features, width = d == 0 ? out->features : 1;
        if (read_rows(dsets[d], dxpl, out, rows, column, width) < 0) {
            if (rows)
                nn_fail(err, "%s: cannot read %lld selected rows of %s", path,
                        (long long)out->count, names[d]);
            else
                nn_fail(err, "%s: cannot read rows %lld..%lld of %s", path,
                        (long long)out->start, (long long)(out->start + out->count), names[d]);
            goto done;
        }
    }
    for (int64_t i = 0; i < out->count; i++) {
        int label = out->records[i * nn_samples_record_size(out) + out->features];
        if (label >= out->classes) {
            int64_t row = rows ? rows[out->start + i] : out->start + i;
            nn_fail(err, "%s: dataset %s row %lld holds label %d, expected 0..%d", path,
                    labels_name, (long long)row, label, out->classes - 1);
            goto done;
        }
    }
    status = NN_OK;
done:
    if (dxpl >= 0) H5Pclose(dxpl);
    if (labels >= 0) H5Dclose(labels);
    if (images >= 0) H5Dclose(images);
    if (file >= 0) H5Fclose(file);
    if (fapl >= 0) H5Pclose(fapl);
    if (!agreed) status = nn_comm_agree(comm, status, err);
    if (status != NN_OK) nn_samples_free(out);
    return status;
}

NnStatus nn_dataset_probe(const char *path, NnDataShape *shape, char err[NN_ERR_LEN])
{
    memset(shape, 0, sizeof *shape);
    if (nn_file_check_regular(path, NULL, err) != NN_OK) return NN_ERR;
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) return nn_fail(err, "%s: not an HDF5 file, or damaged", path);
    NnStatus status = nn_dataset_probe_open(file, path, shape, err);
    H5Fclose(file);
    return status;
}

NnStatus nn_dataset_probe_open(hid_t file, const char *path, NnDataShape *shape,
                               char err[NN_ERR_LEN])
{
    memset(shape, 0, sizeof *shape);
    int64_t classes;
    hsize_t dims[2];
    NnStatus status = read_classes(file, path, &classes, err);
    hid_t images = status == NN_OK ? open_uint8(file, path, "/train/images", 2, dims, err) : -1;
    if (status == NN_OK && images < 0) status = NN_ERR;
    if (images >= 0) H5Dclose(images);
    shape->validation_rows = -1;
    hsize_t validation_dims[2];
    if (status == NN_OK && nn_h5_exists(file, "/validation/images")) {
        images = open_uint8(file, path, "/validation/images", 2, validation_dims, err);
        if (images < 0) status = NN_ERR;
        else H5Dclose(images);
        shape->validation_rows = (int64_t)validation_dims[0];
    }
    if (status != NN_OK) return status;
    shape->train_rows = (int64_t)dims[0];
    shape->features = (int64_t)dims[1];
    shape->classes = (int)classes;
    return NN_OK;
}

NnStatus nn_dataset_read(MPI_Comm comm, const char *path, const char *split, int64_t limit,
                         int64_t unit, NnSamples *out, char err[NN_ERR_LEN])
{
    return read_split(comm, path, split, limit, NULL, 0, unit, out, err);
}

NnStatus nn_dataset_read_rows(MPI_Comm comm, const char *path, const char *split,
                              const int32_t *rows, int64_t n_rows, int64_t unit, NnSamples *out,
                              char err[NN_ERR_LEN])
{
    static const int32_t no_rows[1];
    NN_ASSERT(n_rows >= 0 && (rows || n_rows == 0));
    for (int64_t i = 0; i < n_rows; i++)
        NN_ASSERT(rows[i] >= 0 && (i == 0 || rows[i] > rows[i - 1]));
    return read_split(comm, path, split, 0, rows ? rows : no_rows, n_rows, unit, out, err);
}

NnStatus nn_dataset_has_split(MPI_Comm comm, const char *path, const char *split, int *has,
                              char err[NN_ERR_LEN])
{
    hid_t fapl, file;
    char group[64];
    snprintf(group, sizeof group, "/%s", split);
    NnStatus status = open_file(comm, path, &fapl, &file, err);
    *has = status == NN_OK && nn_h5_exists(file, group);
    if (file >= 0) H5Fclose(file);
    if (fapl >= 0) H5Pclose(fapl);
    status = nn_comm_agree(comm, status, err);
    /* Every rank read the same file; a rank's answer stands for all (rank 0's, to be sure). */
    NN_MPI_CHECK(MPI_Bcast(has, 1, MPI_INT, 0, comm));
    return status;
}

void nn_samples_free(NnSamples *samples)
{
    free(samples->records);
    memset(samples, 0, sizeof *samples);
}

/* Writes an uint8 dataset of shape (count, width) (width 0: 1-D), chunked by rows unless
 * it is empty. */
static NnStatus write_uint8(hid_t group, const char *name, int64_t count, int width,
                            const uint8_t *data, const char *path, char err[NN_ERR_LEN])
{
    int rank = width ? 2 : 1;
    hsize_t dims[2] = {(hsize_t)count, (hsize_t)width};
    hsize_t chunk_rows = count < CHUNK_ROWS ? (count ? (hsize_t)count : 1) : CHUNK_ROWS;
    hsize_t chunk[2] = {chunk_rows, (hsize_t)width};
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t dset = -1;
    NnStatus status = NN_ERR;
    if (space < 0 || dcpl < 0 || (count > 0 && H5Pset_chunk(dcpl, rank, chunk) < 0)) goto done;
    dset = H5Dcreate2(group, name, H5T_STD_U8LE, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (dset < 0) goto done;
    if (count > 0 && H5Dwrite(dset, H5T_NATIVE_UCHAR, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0)
        goto done;
    status = NN_OK;
done:
    if (dset >= 0) H5Dclose(dset);
    if (dcpl >= 0) H5Pclose(dcpl);
    if (space >= 0) H5Sclose(space);
    if (status != NN_OK) nn_fail(err, "%s: cannot write dataset %s", path, name);
    return status;
}

static NnStatus write_split(hid_t file, const char *split, const NnIdxArray *images,
                            const NnIdxArray *labels, const char *path, char err[NN_ERR_LEN])
{
    hid_t group = H5Gcreate2(file, split, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (group < 0) return nn_fail(err, "%s: cannot create group /%s", path, split);
    int features = images->rows * images->cols; /* checked by nn_dataset_write */
    NnStatus status =
        write_uint8(group, "images", images->count, features, images->data, path, err);
    if (status == NN_OK)
        status = write_uint8(group, "labels", labels->count, 0, labels->data, path, err);
    if (status == NN_OK) {
        hid_t dset = H5Dopen2(group, "images", H5P_DEFAULT);
        int64_t shape[2] = {images->rows, images->cols};
        status = dset < 0 ? nn_fail(err, "%s: cannot reopen /%s/images", path, split)
                          : nn_h5_attr_write_i64s(dset, "image_shape", shape, 2, err);
        if (dset >= 0) H5Dclose(dset);
    }
    H5Gclose(group);
    return status;
}

static int max_label(const NnIdxArray *labels)
{
    int best = -1;
    for (int64_t i = 0; i < labels->count; i++)
        if (labels->data[i] > best) best = labels->data[i];
    return best;
}

NnStatus nn_dataset_write(const char *path, const NnIdxArray *train_images,
                          const NnIdxArray *train_labels, const NnIdxArray *test_images,
                          const NnIdxArray *test_labels, const char *source,
                          char err[NN_ERR_LEN])
{
    const NnIdxArray *splits[2][2] = {{train_images, train_labels}, {test_images, test_labels}};
    const char *names[2] = {"train", "test"};
    for (int s = 0; s < 2; s++) {
        const NnIdxArray *images = splits[s][0];
        if (images->count != splits[s][1]->count)
            return nn_fail(err, "%s split: %lld images but %lld labels", names[s],
                           (long long)images->count, (long long)splits[s][1]->count);
        int64_t features = (int64_t)images->rows * images->cols;
        if (images->count < 1 || images->count > NN_DATASET_MAX_ROWS || images->rows < 1 ||
            images->cols < 1 || features > NN_DATASET_MAX_FEATURES)
            return nn_fail(err,
                           "%s split: %lld images of %d x %d pixels; a dataset holds 1 .. %lld "
                           "rows of 1 .. %lld pixels",
                           names[s], (long long)images->count, images->rows, images->cols,
                           (long long)NN_DATASET_MAX_ROWS, (long long)NN_DATASET_MAX_FEATURES);
    }
    if (train_images->rows != test_images->rows || train_images->cols != test_images->cols)
        return nn_fail(err, "train images are %dx%d but test images are %dx%d",
                       train_images->rows, train_images->cols, test_images->rows,
                       test_images->cols);
    int top = max_label(train_labels);
    if (max_label(test_labels) > top) top = max_label(test_labels);
    int64_t classes = top + 1 < 2 ? 2 : top + 1;

    /* Built in memory and written out whole by nn_h5_save_memory_file (nn_h5.h). */
    hid_t file = nn_h5_create_memory_file(path, err);
    if (file < 0) return NN_ERR;
    NnStatus status = NN_ERR;
    if (nn_h5_attr_write_text(file, "format", "nn-mpi dataset", err) != NN_OK ||
        nn_h5_attr_write_i64(file, "format_version", NN_DATASET_FORMAT_VERSION, err) != NN_OK ||
        nn_h5_attr_write_text(file, "source", source, err) != NN_OK ||
        nn_h5_attr_write_i64(file, "classes", classes, err) != NN_OK)
        goto done;
    for (int s = 0; s < 2; s++)
        if (write_split(file, names[s], splits[s][0], splits[s][1], path, err) != NN_OK)
            goto done;
    status = NN_OK;
done:
    if (status != NN_OK) {
        H5Fclose(file);
        return status;
    }
    return nn_h5_save_memory_file(file, path, 0, err);
}
