#include "nnmpi/nn_input.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nnmpi/nn_atomic_file.h"
#include "nnmpi/nn_csv.h"
#include "nnmpi/nn_dataset.h"
#include "nnmpi/nn_h5.h"
#include "nnmpi/nn_idx.h"
#include "nnmpi/nn_image.h"
#include "nnmpi/nn_npy.h"
#include "nnmpi/nn_number.h"

static const struct {
    NnInputKind kind;
    const char *name;
} KIND_NAMES[] = {{NN_INPUT_DATASET, "dataset"}, {NN_INPUT_IDX, "IDX"}, {NN_INPUT_CSV, "CSV"},
                  {NN_INPUT_NPY, "npy"},         {NN_INPUT_PNG, "PNG"}, {NN_INPUT_PGM, "PGM"}};

const char *nn_input_kind_name(NnInputKind kind)
{
    for (size_t i = 0; i < sizeof KIND_NAMES / sizeof KIND_NAMES[0]; i++)
        if (KIND_NAMES[i].kind == kind) return KIND_NAMES[i].name;
    return "?";
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcasecmp(s + n - k, suffix) == 0;
}

NnStatus nn_input_detect(const char *path, NnInputKind *kind, char err[NN_ERR_LEN])
{
    if (nn_file_check_regular(path, NULL, err) != NN_OK) return NN_ERR;
    FILE *f = fopen(path, "rb");
    if (!f) return nn_fail(err, "%s: cannot open: %s", path, strerror(errno));
    unsigned char head[8] = {0};
    size_t n = fread(head, 1, sizeof head, f);
    int failed = ferror(f);
    fclose(f);
    if (failed) return nn_fail(err, "%s: cannot read: %s", path, strerror(errno));
    static const unsigned char idx_images[4] = {0, 0, 8, 3}, idx_labels[4] = {0, 0, 8, 1};
    if (n >= 8 && memcmp(head, "\x89HDF\r\n\x1a\n", 8) == 0)
        *kind = NN_INPUT_DATASET;
    else if (n >= 8 && memcmp(head, "\x89PNG\r\n\x1a\n", 8) == 0)
        *kind = NN_INPUT_PNG;
    else if (n >= 6 && memcmp(head, "\x93NUMPY", 6) == 0)
        *kind = NN_INPUT_NPY;
    else if ((n >= 2 && head[0] == 0x1f && head[1] == 0x8b) ||
             (n >= 4 && memcmp(head, idx_images, 4) == 0))
        *kind = NN_INPUT_IDX;
    else if (n >= 4 && memcmp(head, idx_labels, 4) == 0)
        return nn_fail(err, "%s: an IDX labels file; give the images file as the input and "
                            "this one with --labels",
                       path);
    else if (n >= 3 && head[0] == 'P' && (head[1] == '5' || head[1] == '2') && head[2] &&
             strchr(" \t\r\n#", head[2]))
        *kind = NN_INPUT_PGM;
    else if (ends_with(path, ".h5") || ends_with(path, ".hdf5"))
        *kind = NN_INPUT_DATASET; /* HDF5 with a user block; the reader says if it is not */
    else if (ends_with(path, ".csv") || ends_with(path, ".txt"))
        *kind = NN_INPUT_CSV;
    else
        return nn_fail(err, "%s: not an input nn-mpi predict reads: an nn-mpi dataset (HDF5), "
                            "IDX images (raw or gzipped), a .npy array, a PNG or PGM image, or "
                            "CSV named *.csv",
                       path);
    return NN_OK;
}

/* ---- Blocks of rows for the sink ---- */

typedef struct {
    const NnInputSpec *spec;
    NnInputSink sink;
    void *ctx;
    size_t row_bytes; /* F stored features */
    uint8_t *rows;    /* (NN_INPUT_BLOCK, F) */
    int64_t *labels;  /* (NN_INPUT_BLOCK), or NULL: no labels */
    int count;        /* rows in the block */
    int64_t next;     /* the input's row number of the next row */
} Blocks;

static NnStatus blocks_init(Blocks *b, const NnInputSpec *spec, int has_labels,
                            NnInputSink sink, void *ctx, char err[NN_ERR_LEN])
{
    *b = (Blocks){.spec = spec, .sink = sink, .ctx = ctx,
                  .row_bytes = (size_t)spec->features * (size_t)nn_feature_bytes(spec->type)};
    b->rows = malloc(b->row_bytes * NN_INPUT_BLOCK);
    b->labels = has_labels ? malloc(sizeof *b->labels * NN_INPUT_BLOCK) : NULL;
    if (!b->rows || (has_labels && !b->labels)) {
        free(b->rows);
        free(b->labels);
        return nn_fail(err, "out of memory for %d rows of %d features", NN_INPUT_BLOCK,
                       spec->features);
    }
    return NN_OK;
}

static void blocks_free(Blocks *b)
{
    free(b->rows);
    free(b->labels);
    b->rows = NULL;
    b->labels = NULL;
}

/* Where the next row's features go. */
static uint8_t *blocks_row(Blocks *b)
{
    return b->rows + (size_t)b->count * b->row_bytes;
}

static NnStatus blocks_flush(Blocks *b, char err[NN_ERR_LEN])
{
    if (b->count == 0) return NN_OK;
    NnInputBlock block = {.rows = b->rows, .labels = b->labels, .first = b->next - b->count,
                          .count = b->count};
    b->count = 0;
    return b->sink(b->ctx, &block, err);
}

/* Takes the row written at blocks_row (and its label, when the input has labels). */
static NnStatus blocks_add(Blocks *b, int64_t label, char err[NN_ERR_LEN])
{
    if (b->labels) b->labels[b->count] = label;
    b->count++;
    b->next++;
    return b->count == NN_INPUT_BLOCK ? blocks_flush(b, err) : NN_OK;
}

/* Stores v as feature j of a row of `type`. Returns 0, or -1 when the type cannot hold it
 * exactly: uint8 takes integers 0..255, float32 values whose float32 is finite. */
static int put_feature(uint8_t *row, NnFeatureType type, int64_t j, double v)
{
    if (type == NN_FEATURES_UINT8) {
        if (!(v >= 0.0 && v <= 255.0 && v == floor(v))) return -1;
        row[j] = (uint8_t)v;
        return 0;
    }
    float f = (float)v;
    if (!isfinite(f)) return -1;
    memcpy(row + 4 * j, &f, sizeof f);
    return 0;
}

/* What put_feature's type takes, for messages. */
static const char *type_rule(NnFeatureType type)
{
    return type == NN_FEATURES_UINT8 ? "the model takes uint8 features: integers 0..255"
                                     : "the model takes float32 features: finite numbers";
}

/* Copies F uint8 values into a row of the spec's type (exact for either type). */
static void put_bytes(uint8_t *row, NnFeatureType type, const uint8_t *bytes, int features)
{
    if (type == NN_FEATURES_UINT8) {
        memcpy(row, bytes, (size_t)features);
        return;
    }
    for (int j = 0; j < features; j++) put_feature(row, type, j, bytes[j]);
}

/* ---- nn-mpi dataset files ---- */

/* Opens /split/images and checks its width; -1 with err set. */
static hid_t open_split(hid_t file, const char *path, const char *split, int features,
                        hsize_t *dims, NnFeatureType *type, char err[NN_ERR_LEN])
{
    char name[80];
    snprintf(name, sizeof name, "/%s/images", split);
    if (!nn_h5_exists(file, split)) {
        nn_fail(err, "%s: no /%s split in this file%s", path, split,
                nn_h5_exists(file, "train") ? "" : " (is it an nn-mpi dataset file?)");
        return -1;
    }
    hid_t images = nn_dataset_open_features(file, path, name, dims, type, err);
    if (images < 0) return -1;
    if (features > 0 && dims[1] != (hsize_t)features) {
        nn_fail(err, "%s: dataset %s has %llu features per row, expected %d (the model's inputs)",
                path, name, (unsigned long long)dims[1], features);
        H5Dclose(images);
        return -1;
    }
    return images;
}

/* Opens /split/labels when it holds one integer per row; else 0 (no labels), or -1 when it
 * has integers but not one per row. */
static hid_t open_labels(hid_t file, const char *path, const char *split, hsize_t rows,
                         char err[NN_ERR_LEN])
{
    char name[80];
    snprintf(name, sizeof name, "/%s/labels", split);
    if (!nn_h5_exists(file, name)) return 0;
    hid_t labels = H5Dopen2(file, name, H5P_DEFAULT);
    if (labels < 0) {
        nn_fail(err, "%s: cannot open dataset %s", path, name);
        return -1;
    }
    hid_t type = H5Dget_type(labels), space = H5Dget_space(labels);
    int integer = type >= 0 && H5Tget_class(type) == H5T_INTEGER;
    hsize_t dims[1] = {0};
    int one_per_row = space >= 0 && H5Sget_simple_extent_ndims(space) == 1 &&
                      H5Sget_simple_extent_dims(space, dims, NULL) == 1 && dims[0] == rows;
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (integer && one_per_row) return labels;
    H5Dclose(labels);
    if (!integer) return 0; /* e.g. a regression's float targets: not class labels */
    nn_fail(err, "%s: dataset %s does not hold one label for each of the %llu rows", path, name,
            (unsigned long long)rows);
    return -1;
}

/* Reads rows [first, first + n) of a 2-D (width columns) or 1-D (width 0) dataset. */
static herr_t read_block(hid_t dset, hid_t mem_type, int64_t first, int64_t n, int64_t width,
                         void *out)
{
    hsize_t start[2] = {(hsize_t)first, 0}, count[2] = {(hsize_t)n, (hsize_t)width};
    int rank = width > 0 ? 2 : 1;
    hid_t file_space = H5Dget_space(dset);
    hid_t mem_space = H5Screate_simple(rank, count, NULL);
    herr_t r = file_space >= 0 && mem_space >= 0 &&
                       H5Sselect_hyperslab(file_space, H5S_SELECT_SET, start, NULL, count,
                                           NULL) >= 0
                   ? H5Dread(dset, mem_type, mem_space, file_space, H5P_DEFAULT, out)
                   : -1;
    if (file_space >= 0) H5Sclose(file_space);
    if (mem_space >= 0) H5Sclose(mem_space);
    return r;
}

static NnStatus read_dataset(const char *path, const NnInputSpec *spec, NnInputSink sink,
                             void *ctx, char err[NN_ERR_LEN])
{
    hid_t file = nn_h5_open_file(path, "dataset", err);
    if (file < 0) return NN_ERR;
    hid_t images = -1, labels = 0;
    Blocks b = {0};
    void *raw = NULL;
    int64_t *raw_labels = NULL;
    NnStatus status = NN_ERR;
    hsize_t dims[2];
    NnFeatureType stored;
    const int F = spec->features;
    images = open_split(file, path, spec->split, F, dims, &stored, err);
    if (images < 0) goto done;
    if (dims[0] == 0) {
        nn_fail(err, "%s: the /%s split has no rows", path, spec->split);
        goto done;
    }
    if (spec->want_labels && (labels = open_labels(file, path, spec->split, dims[0], err)) < 0)
        goto done;
    if (blocks_init(&b, spec, labels > 0, sink, ctx, err) != NN_OK) goto done;
    raw = malloc((size_t)F * (size_t)nn_feature_bytes(stored) * NN_INPUT_BLOCK);
    raw_labels = malloc(sizeof *raw_labels * NN_INPUT_BLOCK);
    if (!raw || !raw_labels) {
        nn_fail(err, "out of memory for %d rows of %d features", NN_INPUT_BLOCK, F);
        goto done;
    }
    const int64_t rows = (int64_t)dims[0];
    hid_t mem_type = stored == NN_FEATURES_UINT8 ? H5T_NATIVE_UCHAR : H5T_NATIVE_FLOAT;
    for (int64_t at = 0; at < rows; at += NN_INPUT_BLOCK) {
        int64_t n = rows - at < NN_INPUT_BLOCK ? rows - at : NN_INPUT_BLOCK;
        if (read_block(images, mem_type, at, n, F, raw) < 0 ||
            (labels > 0 && read_block(labels, H5T_NATIVE_INT64, at, n, 0, raw_labels) < 0)) {
            nn_fail(err, "%s: cannot read rows %lld .. %lld of the /%s split", path,
                    (long long)at, (long long)(at + n - 1), spec->split);
            goto done;
        }
        for (int64_t i = 0; i < n; i++) {
            uint8_t *row = blocks_row(&b);
            if (stored == NN_FEATURES_UINT8) {
                put_bytes(row, spec->type, (const uint8_t *)raw + i * F, F);
            } else {
                const float *v = (const float *)raw + i * F;
                for (int j = 0; j < F; j++)
                    if (put_feature(row, spec->type, j, v[j]) != 0) {
                        nn_fail(err, "%s: dataset /%s/images row %lld, column %d: %.9g (%s)",
                                path, spec->split, (long long)(at + i), j, (double)v[j],
                                type_rule(spec->type));
                        goto done;
                    }
            }
            if (blocks_add(&b, labels > 0 ? raw_labels[i] : 0, err) != NN_OK) goto done;
        }
    }
    status = blocks_flush(&b, err);
done:
    free(raw);
    free(raw_labels);
    blocks_free(&b);
    if (labels > 0) H5Dclose(labels);
    if (images >= 0) H5Dclose(images);
    H5Fclose(file);
    return status;
}

NnStatus nn_input_dataset_preprocess(const char *path, const char *split, NnPreprocess *prep,
                                     char err[NN_ERR_LEN])
{
    memset(prep, 0, sizeof *prep);
    hid_t file = nn_h5_open_file(path, "dataset", err);
    if (file < 0) return NN_ERR;
    hsize_t dims[2];
    NnFeatureType type;
    NnStatus status = NN_ERR;
    hid_t images = open_split(file, path, split, 0, dims, &type, err);
    if (images >= 0) {
        char name[80];
        snprintf(name, sizeof name, "/%s/images", split);
        status = nn_dataset_read_preprocess(file, images, path, name, type, (int)dims[1], prep,
                                            err);
        H5Dclose(images);
    }
    H5Fclose(file);
    return status;
}

/* ---- IDX images ---- */

static NnStatus read_idx(const char *path, const NnInputSpec *spec, NnInputSink sink, void *ctx,
                         char err[NN_ERR_LEN])
{
    const NnIdxLimits limits = {.max_count = NN_DATASET_MAX_ROWS,
                                .max_item_bytes = NN_DATASET_MAX_FEATURES};
    NnIdxArray images = {0}, labels = {0};
    Blocks b = {0};
    NnStatus status = NN_ERR;
    const int F = spec->features;
    if (nn_idx_read_images(path, &limits, &images, err) != NN_OK) goto done;
    if ((int64_t)images.rows * images.cols != F) {
        nn_fail(err, "%s: images of %d x %d = %lld pixels, expected %d (the model's inputs)",
                path, images.rows, images.cols, (long long)images.rows * images.cols, F);
        goto done;
    }
    int has_labels = spec->want_labels && spec->idx_labels;
    if (has_labels) {
        if (nn_idx_read_labels(spec->idx_labels, &limits, &labels, err) != NN_OK) goto done;
        if (labels.count != images.count) {
            nn_fail(err, "%s holds %lld labels but %s holds %lld images", spec->idx_labels,
                    (long long)labels.count, path, (long long)images.count);
            goto done;
        }
    }
    if (blocks_init(&b, spec, has_labels, sink, ctx, err) != NN_OK) goto done;
    for (int64_t i = 0; i < images.count; i++) {
        put_bytes(blocks_row(&b), spec->type, images.data + i * F, F);
        if (blocks_add(&b, has_labels ? labels.data[i] : 0, err) != NN_OK) goto done;
    }
    status = blocks_flush(&b, err);
done:
    blocks_free(&b);
    nn_idx_free(&images);
    nn_idx_free(&labels);
    return status;
}

/* ---- NumPy .npy ---- */

static NnStatus read_npy(const char *path, const NnInputSpec *spec, NnInputSink sink, void *ctx,
                         char err[NN_ERR_LEN])
{
    if (nn_file_check_regular(path, NULL, err) != NN_OK) return NN_ERR;
    FILE *f = fopen(path, "rb");
    if (!f) return nn_fail(err, "%s: cannot open: %s", path, strerror(errno));
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    Blocks b = {0};
    unsigned char *raw = NULL;
    NnStatus status = NN_ERR;
    NnNpyHeader h;
    const int F = spec->features;
    if (nn_npy_read_header(nn_npy_fread, f, path, &h, err) != NN_OK) goto done;
    if (h.ndim < 2) {
        nn_fail(err, "%s: a 1-D array of %lld values; expected rows of features, shape (N, %d) "
                     "(one row: x.reshape(1, -1))",
                path, (long long)h.rows, F);
        goto done;
    }
    if (h.per_row != F) {
        nn_fail(err, "%s: %lld features per row, expected %d (the model's inputs)", path,
                (long long)h.per_row, F);
        goto done;
    }
    if (h.rows == 0) {
        nn_fail(err, "%s: no rows", path);
        goto done;
    }
    if (blocks_init(&b, spec, 0, sink, ctx, err) != NN_OK) goto done;
    raw = malloc((size_t)F * (size_t)h.size * NN_INPUT_BLOCK);
    if (!raw) {
        nn_fail(err, "out of memory for %d rows of %d features", NN_INPUT_BLOCK, F);
        goto done;
    }
    for (int64_t at = 0; at < h.rows; at += NN_INPUT_BLOCK) {
        int64_t n = h.rows - at < NN_INPUT_BLOCK ? h.rows - at : NN_INPUT_BLOCK;
        if (nn_npy_fread(f, raw, (size_t)(n * F * h.size), path, err) != NN_OK) goto done;
        if (h.swap) nn_npy_swap(raw, n * F, h.size);
        for (int64_t i = 0; i < n; i++) {
            uint8_t *row = blocks_row(&b);
            for (int j = 0; j < F; j++) {
                double v = nn_npy_element(&h, raw, i * F + j);
                if (put_feature(row, spec->type, j, v) != 0) {
                    nn_fail(err, "%s: row %lld, column %d: %.17g (%s)", path, (long long)(at + i),
                            j, v, type_rule(spec->type));
                    goto done;
                }
            }
            if (blocks_add(&b, 0, err) != NN_OK) goto done;
        }
    }
    status = blocks_flush(&b, err);
done:
    free(raw);
    blocks_free(&b);
    fclose(f);
    return status;
}

/* ---- CSV ---- */

typedef struct {
    const char *path;
    const NnInputSpec *spec;
    Blocks b;
    char *err;
} Csv;

/* One field of a data row (NnCsvCallbacks.field): into the block's next row. */
static NnStatus csv_data_field(void *ctx, int64_t line, int col, const char *s, size_t n)
{
    Csv *c = ctx;
    if (col >= c->spec->features) return NN_OK; /* counted; the row's end reports it */
    double v;
    const char *what = NULL;
    if (!s || n == 0)
        what = "missing value";
    else if (nn_parse_double(s, n, &v) != 0)
        what = "not a number:";
    else if (put_feature(blocks_row(&c->b), c->spec->type, col, v) != 0)
        what = c->spec->type == NN_FEATURES_UINT8 ? "not an integer 0..255 (the model takes "
                                                    "uint8 features):"
                                                  : "not a finite float32:";
    if (!what) return NN_OK;
    if (s && n)
        return nn_fail(c->err, "%s:%lld: row %lld, column %d: %s '%.*s'", c->path,
                       (long long)line, (long long)c->b.next, col + 1, what,
                       n > 64 ? 64 : (int)n, s);
    return nn_fail(c->err, "%s:%lld: row %lld, column %d: %s", c->path, (long long)line,
                   (long long)c->b.next, col + 1, what);
}

/* The end of a data row (NnCsvCallbacks.row): the row into the block. */
static NnStatus csv_row_end(void *ctx, int64_t line, int fields)
{
    Csv *c = ctx;
    if (fields != c->spec->features)
        return nn_fail(c->err, "%s:%lld: row %lld: %d values, expected %d (the model's inputs)",
                       c->path, (long long)line, (long long)c->b.next, fields,
                       c->spec->features);
    return blocks_add(&c->b, 0, c->err);
}

static NnStatus read_csv(const char *path, const NnInputSpec *spec, NnInputSink sink, void *ctx,
                         char err[NN_ERR_LEN])
{
    static const NnCsvCallbacks callbacks = {NULL, csv_data_field, csv_row_end};
    Csv c = {.path = path, .spec = spec, .err = err};
    if (blocks_init(&c.b, spec, 0, sink, ctx, err) != NN_OK) return NN_ERR;
    NnStatus status = nn_csv_read(path, ',', spec->csv_header, &callbacks, &c, err);
    if (status == NN_OK) status = blocks_flush(&c.b, err);
    blocks_free(&c.b);
    return status;
}

/* ---- Images: one row each ---- */

static NnStatus read_image(const char *path, NnImageKind kind, const NnInputSpec *spec,
                           NnInputSink sink, void *ctx, char err[NN_ERR_LEN])
{
    Blocks b;
    if (blocks_init(&b, spec, 0, sink, ctx, err) != NN_OK) return NN_ERR;
    uint8_t *pixels = malloc((size_t)spec->features);
    NnStatus status = pixels ? nn_image_read(path, kind, spec->features, pixels, err)
                             : nn_fail(err, "out of memory for %d pixels", spec->features);
    if (status == NN_OK) {
        put_bytes(blocks_row(&b), spec->type, pixels, spec->features);
        status = blocks_add(&b, 0, err);
    }
    if (status == NN_OK) status = blocks_flush(&b, err);
    free(pixels);
    blocks_free(&b);
    return status;
}

NnStatus nn_input_read(const char *path, NnInputKind kind, const NnInputSpec *spec,
                       NnInputSink sink, void *ctx, char err[NN_ERR_LEN])
{
    NN_ASSERT(spec->features >= 1);
    switch (kind) {
    case NN_INPUT_DATASET: return read_dataset(path, spec, sink, ctx, err);
    case NN_INPUT_IDX: return read_idx(path, spec, sink, ctx, err);
    case NN_INPUT_CSV: return read_csv(path, spec, sink, ctx, err);
    case NN_INPUT_NPY: return read_npy(path, spec, sink, ctx, err);
    case NN_INPUT_PNG: return read_image(path, NN_IMAGE_PNG, spec, sink, ctx, err);
    case NN_INPUT_PGM: return read_image(path, NN_IMAGE_PGM, spec, sink, ctx, err);
    }
    return nn_fail(err, "%s: unknown input kind %d", path, (int)kind);
}
