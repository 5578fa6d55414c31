#include "nnmpi/nn_dataset.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnmpi/nn_atomic_file.h"
#include "nnmpi/nn_comm.h"
#include "nnmpi/nn_fault.h"
#include "nnmpi/nn_h5.h"
#include "nnmpi/nn_shard.h"

#define CHUNK_ROWS 1024

/* The type of an HDF5 dataset for messages: "uint8", "int64", "float32", "string", ... */
static void type_name(hid_t type, char *out, size_t size)
{
    H5T_class_t cls = H5Tget_class(type);
    size_t bits = H5Tget_size(type) * 8;
    if (cls == H5T_INTEGER)
        snprintf(out, size, "%sint%zu", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "", bits);
    else if (cls == H5T_FLOAT)
        snprintf(out, size, "float%zu", bits);
    else if (cls == H5T_STRING)
        snprintf(out, size, "string");
    else
        snprintf(out, size, "of HDF5 type class %d", (int)cls);
}

/* What open_dataset learnt of a dataset's type. */
typedef struct {
    H5T_class_t cls;
    size_t size;     /* bytes per value */
    int is_unsigned;
    char name[48];   /* type_name */
} TypeInfo;

/* Opens dataset name and checks it has `rank` dimensions; fills dims and *info. */
static hid_t open_dataset(hid_t file, const char *path, const char *name, int rank,
                          hsize_t *dims, TypeInfo *info, char err[NN_ERR_LEN])
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
    *info = (TypeInfo){.cls = H5T_NO_CLASS};
    if (type >= 0) {
        info->cls = H5Tget_class(type);
        info->size = H5Tget_size(type);
        info->is_unsigned = info->cls == H5T_INTEGER && H5Tget_sign(type) == H5T_SGN_NONE;
        type_name(type, info->name, sizeof info->name);
    }
    int have_rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : -1;
    if (have_rank == rank) H5Sget_simple_extent_dims(space, dims, NULL);
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (type < 0 || have_rank != rank) {
        H5Dclose(dset);
        if (type < 0)
            nn_fail(err, "%s: cannot read the type of dataset %s", path, name);
        else
            nn_fail(err, "%s: dataset %s has %d dimensions, expected %d", path, name, have_rank,
                    rank);
        return -1;
    }
    return dset;
}

/* Opens a features dataset (N, F): uint8, or any float type (read as float32). */
static hid_t open_features(hid_t file, const char *path, const char *name, hsize_t *dims,
                           NnFeatureType *type, char err[NN_ERR_LEN])
{
    TypeInfo info;
    hid_t dset = open_dataset(file, path, name, 2, dims, &info, err);
    if (dset < 0) return -1;
    if (info.cls == H5T_INTEGER && info.size == 1 && info.is_unsigned) {
        *type = NN_FEATURES_UINT8;
    } else if (info.cls == H5T_FLOAT) {
        *type = NN_FEATURES_FLOAT32;
    } else {
        H5Dclose(dset);
        nn_fail(err, "%s: dataset %s is %s; features must be uint8 or float32", path, name,
                info.name);
        return -1;
    }
    if (dims[1] < 1 || dims[1] > (hsize_t)NN_DATASET_MAX_FEATURES) {
        H5Dclose(dset);
        nn_fail(err, "%s: dataset %s has %llu columns, expected 1 .. %lld", path, name,
                (unsigned long long)dims[1], (long long)NN_DATASET_MAX_FEATURES);
        return -1;
    }
    return dset;
}

/* Opens a labels dataset (N) of classes: any integer type. *bytes: bytes per label. */
static hid_t open_labels(hid_t file, const char *path, const char *name, hsize_t *dims,
                         size_t *bytes, char err[NN_ERR_LEN])
{
    TypeInfo info;
    hid_t dset = open_dataset(file, path, name, 1, dims, &info, err);
    if (dset < 0) return -1;
    if (info.cls != H5T_INTEGER) {
        H5Dclose(dset);
        nn_fail(err, "%s: dataset %s is %s; classification labels must be integers (int8 .. "
                     "int64 or uint8 .. uint64) from 0 to classes-1",
                path, name, info.name);
        return -1;
    }
    *bytes = info.size;
    return dset;
}

/* Opens a targets dataset (N) or (N, T) of regression targets: any float type, read as
 * float32. *targets: T. */
static hid_t open_targets(hid_t file, const char *path, const char *name, hsize_t *dims,
                          int *targets, char err[NN_ERR_LEN])
{
    TypeInfo info;
    hsize_t dims2[2];
    hid_t dset = -1;
    if (nn_h5_exists(file, name)) {
        hid_t probe = H5Dopen2(file, name, H5P_DEFAULT);
        hid_t space = probe >= 0 ? H5Dget_space(probe) : -1;
        int rank = space >= 0 ? H5Sget_simple_extent_ndims(space) : 1;
        if (space >= 0) H5Sclose(space);
        if (probe >= 0) H5Dclose(probe);
        dset = open_dataset(file, path, name, rank == 2 ? 2 : 1, dims2, &info, err);
        if (dset >= 0) *targets = rank == 2 ? (int)dims2[1] : 1;
        dims[0] = dims2[0];
    } else {
        dset = open_dataset(file, path, name, 1, dims, &info, err); /* says it is missing */
    }
    if (dset < 0) return -1;
    if (info.cls != H5T_FLOAT) {
        H5Dclose(dset);
        nn_fail(err, "%s: dataset %s is %s; regression targets must be floats", path, name,
                info.name);
        return -1;
    }
    if (*targets < 1 || *targets > NN_DATASET_MAX_TARGETS) {
        H5Dclose(dset);
        nn_fail(err, "%s: dataset %s has %d columns, expected 1 .. %d targets", path, name,
                *targets, NN_DATASET_MAX_TARGETS);
        return -1;
    }
    return dset;
}

/* 1 when the file is a regression dataset: its /train has targets. */
static int is_regression(hid_t file)
{
    return nn_h5_exists(file, "/train/targets");
}

/* The root's format_version, when present, is one this reader knows. */
static NnStatus check_format_version(hid_t file, const char *path, char err[NN_ERR_LEN])
{
    int64_t version;
    if (H5Aexists(file, "format_version") <= 0) return NN_OK;
    if (nn_h5_attr_read_i64(file, "format_version", &version, err) != NN_OK) return NN_ERR;
    if (version < 1 || version > NN_DATASET_NEWEST_VERSION)
        return nn_fail(err, "%s: dataset format version %lld, this nn-mpi reads versions 1 to %d",
                       path, (long long)version, NN_DATASET_NEWEST_VERSION);
    return NN_OK;
}

/* The root's 'classes' attribute, checked; 0 when absent (inferred from the labels). */
static NnStatus read_classes(hid_t file, const char *path, int64_t *classes, char err[NN_ERR_LEN])
{
    *classes = 0;
    if (H5Aexists(file, "classes") <= 0) return NN_OK;
    if (nn_h5_attr_read_i64(file, "classes", classes, err) != NN_OK) return NN_ERR;
    if (*classes < 2 || *classes > NN_DATASET_MAX_CLASSES)
        return nn_fail(err, "%s: attribute 'classes' is %lld, expected 2..%lld", path,
                       (long long)*classes, (long long)NN_DATASET_MAX_CLASSES);
    return NN_OK;
}

/* The preprocessing of features dataset `images` (type, F columns): its 'scale' attribute
 * (or the type's default) and the root's /mean and /std. */
static NnStatus read_preprocess(hid_t file, hid_t images, const char *path, const char *name,
                                NnFeatureType type, int features, NnPreprocess *prep,
                                char err[NN_ERR_LEN])
{
    *prep = (NnPreprocess){.type = type, .features = features,
                           .scale = nn_preprocess_default_scale(type)};
    if (H5Aexists(images, "scale") > 0) {
        double scale;
        if (nn_h5_attr_read_f64(images, "scale", &scale, err) != NN_OK) return NN_ERR;
        if (!isfinite(scale) || scale == 0.0 || !isfinite((float)scale))
            return nn_fail(err, "%s: dataset %s has scale %g, expected a finite non-zero number",
                           path, name, scale);
        prep->scale = (float)scale;
    }
    const char *names[2] = {"/mean", "/std"};
    float *values[2] = {NULL, NULL};
    NnStatus status = NN_OK;
    hsize_t dims[1] = {(hsize_t)features};
    for (int i = 0; i < 2 && status == NN_OK; i++) {
        if (!nn_h5_exists(file, names[i])) continue;
        values[i] = malloc(sizeof(float) * (size_t)features);
        if (!values[i])
            status = nn_fail(err, "out of memory for %s", names[i]);
        else
            status = nn_h5_read_f32(file, names[i], 1, dims, values[i], err);
    }
    if (status == NN_OK) status = nn_preprocess_set(prep, values[0], values[1], path, err);
    free(values[0]);
    free(values[1]);
    return status;
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

/* Collective read of rows [start, start + count) of dset (1-D, or 2-D with width columns),
 * or with `rows`, of the rows rows[start .. start + count) (ascending, selected as the
 * union of their runs of consecutive rows), as mem_type into the columns [column, column +
 * width) of buf:(count, mem_cols). A rank with no rows selects nothing but still joins the
 * read. */
static herr_t read_rows(hid_t dset, hid_t dxpl, int64_t start, int64_t count,
                        const int32_t *rows, hid_t mem_type, void *buf, int64_t mem_cols,
                        int column, int width)
{
    hsize_t mem_dims[2] = {count ? (hsize_t)count : 1, (hsize_t)mem_cols};
    hid_t mem = H5Screate_simple(2, mem_dims, NULL);
    hid_t file = H5Dget_space(dset);
    herr_t r = -1;
    if (mem < 0 || file < 0) goto done;
    if (count == 0) {
        if (H5Sselect_none(mem) < 0 || H5Sselect_none(file) < 0) goto done;
    } else {
        hsize_t mem_start[2] = {0, (hsize_t)column};
        hsize_t mem_count[2] = {(hsize_t)count, (hsize_t)width};
        if (H5Sselect_hyperslab(mem, H5S_SELECT_SET, mem_start, NULL, mem_count, NULL) < 0)
            goto done;
        if (!rows) {
            if (select_block(file, H5S_SELECT_SET, start, count, width) < 0) goto done;
        } else {
            /* Both selections are visited in ascending row order, so the k-th selected row
             * of the file lands in the k-th row of buf. */
            hid_t list = select_row_list(file, rows + start, count, width);
            H5Sclose(file);
            file = list;
            if (file < 0) goto done;
        }
    }
    r = H5Dread(dset, mem_type, mem, file, dxpl, buf);
done:
    if (mem >= 0) H5Sclose(mem);
    if (file >= 0) H5Sclose(file);
    return r;
}

/* The images' (rows, cols) from their image_shape attribute (nn-mpi-data writes it): 0, 0
 * without one; -1, -1 when it is not two positive numbers whose product is `features`
 * (only [data] augment needs it, and says so). */
static void read_image_shape(hid_t images, int features, int *rows, int *cols)
{
    *rows = *cols = 0;
    if (H5Aexists(images, "image_shape") <= 0) return;
    int64_t shape[3];
    int n = 0;
    char err[NN_ERR_LEN];
    *rows = *cols = -1;
    if (nn_h5_attr_read_i64s(images, "image_shape", shape, 3, &n, err) != NN_OK || n != 2 ||
        shape[0] < 1 || shape[1] < 1 || shape[0] > features || shape[1] > features ||
        shape[0] * shape[1] != features)
        return;
    *rows = (int)shape[0];
    *cols = (int)shape[1];
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

/* Checks labels[0..count) of dataset `name` (row of label i: row0 + i, or rows[row0 + i]
 * with a list): each in 0 .. classes-1 (classes 0: >= 0, classes to be inferred), and
 * raises *max to the largest. The one place that knows what a label is: a reader of float
 * targets (regression) replaces it. */
static NnStatus check_labels(const int64_t *labels, int64_t count, const int32_t *rows,
                             int64_t row0, int64_t classes, const char *path, const char *name,
                             int64_t *max, char err[NN_ERR_LEN])
{
    for (int64_t i = 0; i < count; i++) {
        int64_t label = labels[i];
        if (label < 0 || (classes > 0 && label >= classes)) {
            int64_t row = rows ? rows[row0 + i] : row0 + i;
            if (classes > 0)
                return nn_fail(err, "%s: dataset %s row %lld holds label %lld, expected 0..%lld",
                               path, name, (long long)row, (long long)label,
                               (long long)classes - 1);
            return nn_fail(err, "%s: dataset %s row %lld holds label %lld, expected a class "
                                "number >= 0",
                           path, name, (long long)row, (long long)label);
        }
        if (label > *max) *max = label;
    }
    return NN_OK;
}

/* Checks targets[0..count * T) of dataset `name` (row of row i: row0 + i, or rows[row0 + i]
 * with a list): every value finite. */
static NnStatus check_targets(const float *targets, int64_t count, int T, const int32_t *rows,
                              int64_t row0, const char *path, const char *name,
                              char err[NN_ERR_LEN])
{
    for (int64_t i = 0; i < count * T; i++)
        if (!isfinite(targets[i])) {
            int64_t row = rows ? rows[row0 + i / T] : row0 + i / T;
            return nn_fail(err, "%s: dataset %s row %lld holds target %g, expected a finite "
                                "number",
                           path, name, (long long)row, (double)targets[i]);
        }
    return NN_OK;
}

/* Stores checked targets[0..count * T) into the records' target fields. */
static void store_targets(NnSamples *s, const float *targets)
{
    int64_t rec = nn_samples_record_size(s);
    uint8_t *at = s->records + rec - s->label_bytes;
    for (int64_t i = 0; i < s->count; i++, at += rec)
        memcpy(at, targets + i * s->targets, sizeof(float) * (size_t)s->targets);
}

/* Stores checked labels[0..count) into the records' label field. */
static void store_labels(NnSamples *s, const int64_t *labels)
{
    int64_t rec = nn_samples_record_size(s);
    uint8_t *at = s->records + rec - s->label_bytes;
    for (int64_t i = 0; i < s->count; i++, at += rec) {
        if (s->label_bytes == 1) {
            *at = (uint8_t)labels[i];
        } else {
            int32_t label = (int32_t)labels[i];
            memcpy(at, &label, sizeof label);
        }
    }
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
    out->max_label = -1;
    char images_name[64], labels_name[64];
    snprintf(images_name, sizeof images_name, "/%s/images", split);

    NnStatus status = NN_ERR;
    hid_t fapl = -1, file = -1, images = -1, labels = -1, dxpl = -1;
    int64_t *label_values = NULL;
    float *target_values = NULL; /* regression: (rows, T) */
    int targets = 0;
    int64_t classes = 0, split_rows = 0, beyond_start = 0, beyond_count = 0;
    hsize_t image_dims[2], label_dims[1];
    NnFeatureType type = NN_FEATURES_UINT8;
    size_t label_size;
    int agreed = 0;
    if (open_file(comm, path, &fapl, &file, err) != NN_OK) goto agree;
    if (check_format_version(file, path, err) != NN_OK ||
        read_classes(file, path, &classes, err) != NN_OK)
        goto agree;
    images = open_features(file, path, images_name, image_dims, &type, err);
    if (images < 0) goto agree;
    if (is_regression(file)) {
        snprintf(labels_name, sizeof labels_name, "/%s/targets", split);
        if (classes) {
            nn_fail(err, "%s: a regression dataset (/train/targets) has no classes, but the "
                         "file states %lld",
                    path, (long long)classes);
            goto agree;
        }
        labels = open_targets(file, path, labels_name, label_dims, &targets, err);
        label_size = 4;
    } else {
        snprintf(labels_name, sizeof labels_name, "/%s/labels", split);
        labels = open_labels(file, path, labels_name, label_dims, &label_size, err);
    }
    if (labels < 0) goto agree;
    if (label_dims[0] != image_dims[0]) {
        nn_fail(err, "%s: dataset %s has %llu rows but %s has %llu", path, labels_name,
                (unsigned long long)label_dims[0], images_name,
                (unsigned long long)image_dims[0]);
        goto agree;
    }
    split_rows = (int64_t)image_dims[0];
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
    out->targets = targets;
    /* Without 'classes', the widest label the type can hold decides the record layout. */
    out->label_bytes =
        targets ? 4 * targets
                : nn_label_bytes(type, classes        ? classes
                                       : label_size == 1 ? 256
                                                         : NN_DATASET_MAX_CLASSES);
    if (read_preprocess(file, images, path, images_name, type, out->features, &out->prep, err) !=
        NN_OK)
        goto agree;
    read_image_shape(images, out->features, &out->image_rows, &out->image_cols);
    nn_shard_range_units(out->total, unit, size, rank, &out->start, &out->count);
    /* Without 'classes' and with a limit, the labels beyond it count for max_label too. */
    if (!classes && !targets && !rows && out->total < split_rows) {
        nn_shard_range(split_rows - out->total, size, rank, &beyond_start, &beyond_count);
        beyond_start += out->total;
    }

    int64_t bytes = (out->count ? out->count : 1) * nn_samples_record_size(out);
    int64_t label_rows = out->count > beyond_count ? out->count : beyond_count;
    out->records = malloc((size_t)bytes);
    if (strcmp(split, "train") == 0 && !rows)
        out->records = nn_fault_alloc(NN_STAGE_DATASET, out->records);
    label_values = malloc(sizeof(int64_t) * (size_t)(label_rows ? label_rows : 1));
    if (targets)
        target_values = malloc(sizeof(float) * (size_t)(label_rows ? label_rows : 1) *
                               (size_t)targets);
    dxpl = H5Pcreate(H5P_DATASET_XFER);
    if (!out->records || !label_values || (targets && !target_values))
        nn_fail(err, "out of memory for %lld bytes of %s samples", (long long)bytes, split);
    else if (dxpl < 0 || H5Pset_dxpl_mpio(dxpl, H5FD_MPIO_COLLECTIVE) < 0)
        nn_fail(err, "cannot set up collective HDF5 reads");
    else
        status = NN_OK;
agree:
    /* The checks above give the same answer on every rank, memory and a damaged file may
     * not: the ranks agree before the collective reads (and again after them). */
    status = nn_comm_agree(comm, status, err);
    agreed = status != NN_OK;
    if (agreed) goto done;
    status = NN_ERR;

    int float_features = type == NN_FEATURES_FLOAT32;
    int64_t rec = nn_samples_record_size(out);
    if (read_rows(images, dxpl, out->start, out->count, rows,
                  float_features ? H5T_NATIVE_FLOAT : H5T_NATIVE_UCHAR, out->records,
                  float_features ? rec / (int64_t)sizeof(float) : rec, 0, out->features) < 0 ||
        (targets ? read_rows(labels, dxpl, out->start, out->count, rows, H5T_NATIVE_FLOAT,
                             target_values, targets, 0, targets)
                 : read_rows(labels, dxpl, out->start, out->count, rows, H5T_NATIVE_INT64,
                             label_values, 1, 0, 1)) < 0) {
        if (rows)
            nn_fail(err, "%s: cannot read %lld selected rows of %s", path,
                    (long long)out->count, split);
        else
            nn_fail(err, "%s: cannot read rows %lld..%lld of %s", path, (long long)out->start,
                    (long long)(out->start + out->count), split);
        goto done;
    }
    if (targets) {
        if (check_targets(target_values, out->count, targets, rows, out->start, path,
                          labels_name, err) != NN_OK)
            goto done;
        store_targets(out, target_values);
    } else {
        if (check_labels(label_values, out->count, rows, out->start, classes, path,
                         labels_name, &out->max_label, err) != NN_OK)
            goto done;
        store_labels(out, label_values);
    }
    if (!classes && !targets && !rows && out->total < split_rows) {
        if (read_rows(labels, dxpl, beyond_start, beyond_count, NULL, H5T_NATIVE_INT64,
                      label_values, 1, 0, 1) < 0) {
            nn_fail(err, "%s: cannot read rows %lld..%lld of %s", path, (long long)beyond_start,
                    (long long)(beyond_start + beyond_count), labels_name);
            goto done;
        }
        if (check_labels(label_values, beyond_count, NULL, beyond_start, 0, path, labels_name,
                         &out->max_label, err) != NN_OK)
            goto done;
    }
    status = NN_OK;
done:
    free(label_values);
    free(target_values);
    if (dxpl >= 0) H5Pclose(dxpl);
    if (labels >= 0) H5Dclose(labels);
    if (images >= 0) H5Dclose(images);
    if (file >= 0) H5Fclose(file);
    if (fapl >= 0) H5Pclose(fapl);
    if (!agreed) status = nn_comm_agree(comm, status, err);
    if (status != NN_OK) nn_samples_free(out);
    return status;
}

#define PROBE_BLOCK_ROWS (INT64_C(1) << 20)

/* One process: raises *max to the largest label of dataset `name` (all its rows, in blocks
 * of PROBE_BLOCK_ROWS), checking that none is negative. */
static NnStatus scan_labels(hid_t file, const char *path, const char *name, int64_t *max,
                            char err[NN_ERR_LEN])
{
    hsize_t dims[1];
    size_t label_size;
    hid_t dset = open_labels(file, path, name, dims, &label_size, err);
    if (dset < 0) return NN_ERR;
    int64_t n = (int64_t)dims[0];
    int64_t block = n < PROBE_BLOCK_ROWS ? (n ? n : 1) : PROBE_BLOCK_ROWS;
    int64_t *values = malloc(sizeof(int64_t) * (size_t)block);
    NnStatus status = values ? NN_OK : nn_fail(err, "out of memory scanning %s", name);
    for (int64_t first = 0; status == NN_OK && first < n; first += block) {
        int64_t count = n - first < block ? n - first : block;
        if (read_rows(dset, H5P_DEFAULT, first, count, NULL, H5T_NATIVE_INT64, values, 1, 0,
                      1) < 0)
            status = nn_fail(err, "%s: cannot read rows %lld..%lld of %s", path,
                             (long long)first, (long long)(first + count), name);
        else
            status = check_labels(values, count, NULL, first, 0, path, name, max, err);
    }
    free(values);
    H5Dclose(dset);
    return status;
}

/* The probe's work on an open file. */
static NnStatus probe_file(hid_t file, const char *path, NnDataShape *shape,
                           char err[NN_ERR_LEN])
{
    int64_t classes;
    hsize_t dims[2], validation_dims[2];
    if (check_format_version(file, path, err) != NN_OK ||
        read_classes(file, path, &classes, err) != NN_OK)
        return NN_ERR;
    NnFeatureType type;
    hid_t images = open_features(file, path, "/train/images", dims, &type, err);
    if (images < 0) return NN_ERR;
    NnStatus status = read_preprocess(file, images, path, "/train/images", type, (int)dims[1],
                                      &shape->prep, err);
    H5Dclose(images);
    if (status != NN_OK) return status;
    shape->train_rows = (int64_t)dims[0];
    shape->features = (int64_t)dims[1];
    int has_validation = nn_h5_exists(file, "/validation/images");
    if (has_validation) {
        images = open_features(file, path, "/validation/images", validation_dims, &type, err);
        if (images < 0) return NN_ERR;
        H5Dclose(images);
        shape->validation_rows = (int64_t)validation_dims[0];
    }
    if (is_regression(file)) {
        if (classes)
            return nn_fail(err, "%s: a regression dataset (/train/targets) has no classes, but "
                                "the file states %lld",
                           path, (long long)classes);
        hsize_t target_dims[1];
        hid_t targets = open_targets(file, path, "/train/targets", target_dims,
                                     &shape->targets, err);
        if (targets < 0) return NN_ERR;
        H5Dclose(targets);
        shape->classes = 0;
        return NN_OK;
    }
    if (classes == 0) {
        shape->classes_inferred = 1;
        const char *names[3] = {"/train/labels", "/test/labels", "/validation/labels"};
        for (int i = 0; i < 2 + has_validation; i++)
            if (scan_labels(file, path, names[i], &shape->max_label, err) != NN_OK)
                return NN_ERR;
        /* Compared before adding 1: a label of INT64_MAX must not overflow. */
        if (shape->max_label >= NN_DATASET_MAX_CLASSES)
            return nn_fail(err, "%s: the largest label is %lld; at most %lld classes are "
                                "supported",
                           path, (long long)shape->max_label,
                           (long long)NN_DATASET_MAX_CLASSES);
        classes = shape->max_label + 1 < 2 ? 2 : shape->max_label + 1;
    }
    shape->classes = (int)classes;
    return NN_OK;
}

NnStatus nn_dataset_probe(const char *path, NnDataShape *shape, char err[NN_ERR_LEN])
{
    memset(shape, 0, sizeof *shape);
    hid_t file = nn_h5_open_file(path, NULL, err);
    if (file < 0) return NN_ERR;
    NnStatus status = nn_dataset_probe_open(file, path, shape, err);
    H5Fclose(file);
    return status;
}

NnStatus nn_dataset_probe_open(hid_t file, const char *path, NnDataShape *shape,
                               char err[NN_ERR_LEN])
{
    memset(shape, 0, sizeof *shape);
    shape->validation_rows = -1;
    shape->max_label = -1;
    NnStatus status = probe_file(file, path, shape, err);
    if (status != NN_OK) nn_data_shape_free(shape);
    return status;
}

hid_t nn_dataset_open_features(hid_t file, const char *path, const char *name, hsize_t *dims,
                               NnFeatureType *type, char err[NN_ERR_LEN])
{
    return open_features(file, path, name, dims, type, err);
}

NnStatus nn_dataset_read_preprocess(hid_t file, hid_t images, const char *path,
                                    const char *name, NnFeatureType type, int features,
                                    NnPreprocess *prep, char err[NN_ERR_LEN])
{
    return read_preprocess(file, images, path, name, type, features, prep, err);
}

void nn_data_shape_free(NnDataShape *shape)
{
    nn_preprocess_free(&shape->prep);
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
    nn_preprocess_free(&samples->prep);
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
