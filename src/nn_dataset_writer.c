#include "nnmpi/nn_dataset_writer.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnmpi/nn_atomic_file.h"
#include "nnmpi/nn_dataset.h"
#include "nnmpi/nn_fault.h"
#include "nnmpi/nn_h5.h"

/* Rows per image chunk: about 64 KiB of float32 features, so that a small dataset stays
 * small (HDF5 stores a partial chunk whole) and a reader's hyperslab touches little beyond
 * its rows. Rows are buffered and written BLOCK_CHUNKS chunks at a time (whole chunks). */
#define CHUNK_BYTES ((int64_t)64 << 10)
#define BLOCK_CHUNKS 16
#define LABEL_CHUNK 8192
/* Bytes per chunk of targets: LABEL_CHUNK rows of one float32 target, fewer rows of more. */
#define TARGET_CHUNK_BYTES ((int64_t)LABEL_CHUNK * 4)
/* Labels read and rewritten at a time when mapping them. */
#define MAP_BLOCK ((int64_t)1 << 20)

static const char *const SPLIT_NAMES[NN_SPLIT_COUNT] = {"train", "test", "validation"};

typedef struct {
    hid_t group, images, labels; /* H5I_INVALID_HID until the first block is written;
                                    labels: /SPLIT/labels, or /SPLIT/targets with targets */
    float *x;                    /* (block_rows, F) buffered rows */
    int64_t *y;                  /* (block_rows) their labels, or NULL with targets */
    float *t;                    /* (block_rows, T) their targets, or NULL without */
    int64_t buffered, written;
} Split;

struct NnWriter {
    char path[4096], temp[4096];
    int64_t features, chunk_rows, block_rows;
    NnWriterOptions options;
    hid_t file;
    Split split[NN_SPLIT_COUNT];
    int64_t source_rows; /* rows of the train source seen (the hold-out index) */
    int64_t max_label;
    int64_t *values; /* map_labels: the distinct labels seen, ascending */
    int n_values;
    double *mean, *m2; /* standardize: Welford's running mean and sum of squares (F) */
    int64_t n_stat;
    int full_disk; /* test fault write_enospc fired for this file */
};

void nn_writer_init(void)
{
    H5dont_atexit();
    nn_h5_silence();
}

static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

NnSplit nn_writer_holdout(uint64_t seed, int64_t index, double test_fraction,
                          double validation_fraction)
{
    /* u uniform in [0, 1) from (seed, "holdout", index). */
    double u = (double)(mix64(mix64(seed ^ 0x686f6c646f7574ULL) ^ (uint64_t)index) >> 11) *
               0x1p-53;
    if (u < test_fraction) return NN_SPLIT_TEST;
    if (u < test_fraction + validation_fraction) return NN_SPLIT_VALIDATION;
    return NN_SPLIT_TRAIN;
}

/* The errno of the last failed system call inside HDF5, from its error stack (the sec2
 * driver records "errno = N"); EIO when it records none. */
static herr_t find_errno(unsigned n, const H5E_error2_t *e, void *data)
{
    (void)n;
    const char *at = e->desc ? strstr(e->desc, "errno = ") : NULL;
    if (at && *(int *)data == 0) *(int *)data = atoi(at + 8);
    return 0;
}

static int hdf5_errno(void)
{
    int code = 0;
    H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, find_errno, &code);
    return code > 0 ? code : EIO;
}

/* "TEMP: cannot WHAT: errno text" (the errno from HDF5's error stack). */
static NnStatus write_fail(NnWriter *w, const char *what, int code, char err[NN_ERR_LEN])
{
    return nn_fail(err, "%s: cannot %s: %s", w->temp, what, strerror(code ? code : hdf5_errno()));
}

/* Closes every id; returns -1 when closing the file failed (HDF5 could not flush it). */
static int close_all(NnWriter *w)
{
    for (int s = 0; s < NN_SPLIT_COUNT; s++) {
        Split *sp = &w->split[s];
        if (sp->images >= 0) H5Dclose(sp->images);
        if (sp->labels >= 0) H5Dclose(sp->labels);
        if (sp->group >= 0) H5Gclose(sp->group);
        sp->images = sp->labels = sp->group = H5I_INVALID_HID;
    }
    int r = 0;
    if (w->file >= 0) r = H5Fclose(w->file) < 0 ? -1 : 0;
    w->file = H5I_INVALID_HID;
    return r;
}

static void free_writer(NnWriter *w)
{
    for (int s = 0; s < NN_SPLIT_COUNT; s++) {
        free(w->split[s].x);
        free(w->split[s].y);
        free(w->split[s].t);
    }
    free(w->values);
    free(w->mean);
    free(w->m2);
    free(w);
}

void nn_writer_abort(NnWriter *w)
{
    if (!w) return;
    close_all(w);
    unlink(w->temp);
    free_writer(w);
}

NnStatus nn_writer_open(NnWriter **out, const char *path, int64_t features,
                        const NnWriterOptions *options, char err[NN_ERR_LEN])
{
    *out = NULL;
    if (features < 1 || features > NN_DATASET_MAX_FEATURES)
        return nn_fail(err, "%lld features per row; a dataset holds 1 .. %lld",
                       (long long)features, (long long)NN_DATASET_MAX_FEATURES);
    if (options->targets < 0 || options->targets > NN_DATASET_MAX_TARGETS)
        return nn_fail(err, "%lld targets per row; a dataset holds 1 .. %d",
                       (long long)options->targets, NN_DATASET_MAX_TARGETS);
    if (options->targets && (options->classes || options->map_labels))
        return nn_fail(err, "--classes and --map-labels are for class labels; a regression "
                            "dataset (float targets) has no classes");
    NnWriter *w = calloc(1, sizeof *w);
    if (!w) return nn_fail(err, "out of memory");
    snprintf(w->path, sizeof w->path, "%s", path);
    nn_atomic_temp_name(path, w->temp, sizeof w->temp);
    w->features = features;
    w->options = *options;
    w->file = H5I_INVALID_HID;
    w->max_label = -1;
    for (int s = 0; s < NN_SPLIT_COUNT; s++)
        w->split[s].group = w->split[s].images = w->split[s].labels = H5I_INVALID_HID;
    w->chunk_rows = CHUNK_BYTES / (4 * features);
    if (w->chunk_rows < 1) w->chunk_rows = 1;
    w->block_rows = w->chunk_rows > 1 ? w->chunk_rows * BLOCK_CHUNKS : 1; /* ~1 MiB */
    if (options->standardize) {
        w->mean = calloc((size_t)features, sizeof *w->mean);
        w->m2 = calloc((size_t)features, sizeof *w->m2);
        if (!w->mean || !w->m2) {
            free_writer(w);
            return nn_fail(err, "out of memory for the statistics of %lld features",
                           (long long)features);
        }
    }
    /* STRONG: closing the file closes whatever is still open in it. */
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl >= 0 && H5Pset_fapl_sec2(fapl) >= 0 &&
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0)
        w->file = H5Fcreate(w->temp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (fapl >= 0) H5Pclose(fapl);
    if (w->file < 0) {
        NnStatus status = write_fail(w, "create", 0, err);
        nn_writer_abort(w);
        return status;
    }
    w->full_disk = nn_fault_hit(NN_FAULT_WRITE_ENOSPC, NULL);
    *out = w;
    return NN_OK;
}

/* The rank of the labels or targets dataset (1, or 2 for T > 1 targets) and its width. */
static int y_rank(const NnWriter *w)
{
    return w->options.targets > 1 ? 2 : 1;
}

static int64_t y_width(const NnWriter *w)
{
    return w->options.targets > 1 ? w->options.targets : 1;
}

/* Creates /NAME/images (0, F) and /NAME/labels (0) int64, or /NAME/targets (0) or (0, T)
 * float32, extendable, chunked by rows. */
static NnStatus create_split(NnWriter *w, Split *sp, const char *name, char err[NN_ERR_LEN])
{
    int64_t T = w->options.targets, width = y_width(w);
    hsize_t dims[2] = {0, (hsize_t)w->features}, max[2] = {H5S_UNLIMITED, (hsize_t)w->features};
    hsize_t chunk[2] = {(hsize_t)w->chunk_rows, (hsize_t)w->features};
    hsize_t ydims[2] = {0, (hsize_t)width}, ymax[2] = {H5S_UNLIMITED, (hsize_t)width};
    int64_t target_rows = TARGET_CHUNK_BYTES / (4 * width);
    hsize_t ychunk[2] = {T ? (hsize_t)(target_rows > 0 ? target_rows : 1) : LABEL_CHUNK,
                         (hsize_t)width};
    hid_t space2 = H5Screate_simple(2, dims, max), yspace = H5Screate_simple(y_rank(w), ydims, ymax);
    hid_t dcpl2 = H5Pcreate(H5P_DATASET_CREATE), ydcpl = H5Pcreate(H5P_DATASET_CREATE);
    NnStatus status = NN_ERR;
    if (space2 < 0 || yspace < 0 || dcpl2 < 0 || ydcpl < 0 || H5Pset_chunk(dcpl2, 2, chunk) < 0 ||
        H5Pset_chunk(ydcpl, y_rank(w), ychunk) < 0)
        goto done;
    sp->group = H5Gcreate2(w->file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (sp->group < 0) goto done;
    sp->images = H5Dcreate2(sp->group, "images", H5T_IEEE_F32LE, space2, H5P_DEFAULT, dcpl2,
                            H5P_DEFAULT);
    if (sp->images < 0) goto done;
    sp->labels = H5Dcreate2(sp->group, T ? "targets" : "labels",
                            T ? H5T_IEEE_F32LE : H5T_STD_I64LE, yspace, H5P_DEFAULT, ydcpl,
                            H5P_DEFAULT);
    if (sp->labels < 0) goto done;
    status = NN_OK;
done:
    if (space2 >= 0) H5Sclose(space2);
    if (yspace >= 0) H5Sclose(yspace);
    if (dcpl2 >= 0) H5Pclose(dcpl2);
    if (ydcpl >= 0) H5Pclose(ydcpl);
    return status == NN_OK ? NN_OK : write_fail(w, "write", 0, err);
}

/* Appends rows [0, count) of data (rank 1 or 2, width F) at row `at` of dset. */
static herr_t append(hid_t dset, int rank, int64_t at, int64_t count, int64_t width,
                     hid_t mem_type, const void *data)
{
    hsize_t size[2] = {(hsize_t)(at + count), (hsize_t)width};
    hsize_t start[2] = {(hsize_t)at, 0}, block[2] = {(hsize_t)count, (hsize_t)width};
    if (H5Dset_extent(dset, size) < 0) return -1;
    hid_t file = H5Dget_space(dset), mem = H5Screate_simple(rank, block, NULL);
    herr_t r = -1;
    if (file >= 0 && mem >= 0 &&
        H5Sselect_hyperslab(file, H5S_SELECT_SET, start, NULL, block, NULL) >= 0)
        r = H5Dwrite(dset, mem_type, mem, file, H5P_DEFAULT, data);
    if (file >= 0) H5Sclose(file);
    if (mem >= 0) H5Sclose(mem);
    return r;
}

/* Writes split s's buffered rows. */
static NnStatus flush_split(NnWriter *w, NnSplit s, char err[NN_ERR_LEN])
{
    Split *sp = &w->split[s];
    if (sp->buffered == 0) return NN_OK;
    if (sp->group < 0 && create_split(w, sp, SPLIT_NAMES[s], err) != NN_OK) return NN_ERR;
    if (append(sp->images, 2, sp->written, sp->buffered, w->features, H5T_NATIVE_FLOAT, sp->x) <
            0 ||
        append(sp->labels, y_rank(w), sp->written, sp->buffered, y_width(w),
               sp->t ? H5T_NATIVE_FLOAT : H5T_NATIVE_INT64,
               sp->t ? (const void *)sp->t : (const void *)sp->y) < 0)
        return write_fail(w, "write", 0, err);
    sp->written += sp->buffered;
    sp->buffered = 0;
    /* The test fault: the disk fills up once the first block is in the file. */
    if (w->full_disk) return write_fail(w, "write", ENOSPC, err);
    return NN_OK;
}

/* map_labels: adds label to the ascending list of distinct values. */
static NnStatus note_value(NnWriter *w, int64_t label, char err[NN_ERR_LEN])
{
    int lo = 0, hi = w->n_values;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (w->values[mid] < label)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo < w->n_values && w->values[lo] == label) return NN_OK;
    if (w->n_values == NN_WRITER_MAX_LABEL_VALUES)
        return nn_fail(err, "label %lld: more than %d distinct labels", (long long)label,
                       NN_WRITER_MAX_LABEL_VALUES);
    if ((w->n_values & (w->n_values - 1)) == 0) { /* 0, 1, 2, 4, ...: grow */
        int64_t *grown = realloc(w->values, sizeof *grown * (size_t)(w->n_values ? 2 * w->n_values : 4));
        if (!grown) return nn_fail(err, "out of memory");
        w->values = grown;
    }
    memmove(w->values + lo + 1, w->values + lo, sizeof *w->values * (size_t)(w->n_values - lo));
    w->values[lo] = label;
    w->n_values++;
    return NN_OK;
}

NnStatus nn_writer_label(NnWriter *w, int64_t label, char err[NN_ERR_LEN])
{
    const NnWriterOptions *o = &w->options;
    if (o->map_labels) return note_value(w, label, err);
    if (label < 0)
        return nn_fail(err, "label %lld is negative (--map-labels maps any integer labels "
                            "to 0..k-1)", (long long)label);
    if (o->classes > 0 && label >= o->classes)
        return nn_fail(err, "label %lld is not below --classes %lld", (long long)label,
                       (long long)o->classes);
    return NN_OK;
}

/* Adds one row: its label, or with options.targets its T targets (then label is unused). */
static NnStatus add_row(NnWriter *w, NnSplit from, const float *x, int64_t label,
                        const float *targets, char err[NN_ERR_LEN])
{
    const NnWriterOptions *o = &w->options;
    int64_t T = o->targets;
    NnSplit s = from;
    if (from == NN_SPLIT_TRAIN)
        s = nn_writer_holdout(o->seed, w->source_rows++, o->test_fraction,
                              o->validation_fraction);
    Split *sp = &w->split[s];
    if (!sp->x) {
        sp->x = malloc(sizeof *sp->x * (size_t)(w->block_rows * w->features));
        if (T)
            sp->t = malloc(sizeof *sp->t * (size_t)(w->block_rows * T));
        else
            sp->y = malloc(sizeof *sp->y * (size_t)w->block_rows);
        if (!sp->x || (T ? !sp->t : !sp->y))
            return nn_fail(err, "out of memory for a block of rows");
    }
    if (sp->written + sp->buffered >= NN_DATASET_MAX_ROWS)
        return nn_fail(err, "more than %lld rows in the %s split",
                       (long long)NN_DATASET_MAX_ROWS, SPLIT_NAMES[s]);
    int64_t F = w->features;
    memcpy(sp->x + sp->buffered * F, x, sizeof *x * (size_t)F);
    if (T) {
        for (int64_t k = 0; k < T; k++) sp->t[sp->buffered * T + k] = targets[k];
    } else {
        if (label > w->max_label) w->max_label = label;
        sp->y[sp->buffered] = label;
    }
    sp->buffered++;
    if (s == NN_SPLIT_TRAIN && o->standardize) {
        double inv = 1.0 / (double)++w->n_stat;
        for (int64_t j = 0; j < F; j++) {
            double delta = x[j] - w->mean[j];
            w->mean[j] += delta * inv;
            w->m2[j] += delta * (x[j] - w->mean[j]);
        }
    }
    return sp->buffered == w->block_rows ? flush_split(w, s, err) : NN_OK;
}

NnStatus nn_writer_add(NnWriter *w, NnSplit from, const float *x, int64_t label,
                       char err[NN_ERR_LEN])
{
    NN_ASSERT(w->options.targets == 0);
    return add_row(w, from, x, label, NULL, err);
}

NnStatus nn_writer_add_targets(NnWriter *w, NnSplit from, const float *x, const float *targets,
                               char err[NN_ERR_LEN])
{
    NN_ASSERT(w->options.targets > 0);
    for (int64_t k = 0; k < w->options.targets; k++)
        if (!isfinite(targets[k]))
            return nn_fail(err, "target %g is not a finite number", (double)targets[k]);
    return add_row(w, from, x, 0, targets, err);
}

int64_t nn_writer_rows(const NnWriter *w, NnSplit s)
{
    return w->split[s].written + w->split[s].buffered;
}

/* map_labels: rewrites every labels dataset through the ascending list of values. */
static NnStatus map_labels(NnWriter *w, char err[NN_ERR_LEN])
{
    int64_t *block = malloc(sizeof *block * (size_t)MAP_BLOCK);
    if (!block) return nn_fail(err, "out of memory");
    NnStatus status = NN_OK;
    for (int s = 0; s < NN_SPLIT_COUNT && status == NN_OK; s++) {
        Split *sp = &w->split[s];
        for (int64_t at = 0; at < sp->written && status == NN_OK; at += MAP_BLOCK) {
            int64_t n = sp->written - at < MAP_BLOCK ? sp->written - at : MAP_BLOCK;
            hsize_t start = (hsize_t)at, count = (hsize_t)n;
            hid_t file = H5Dget_space(sp->labels), mem = H5Screate_simple(1, &count, NULL);
            herr_t r = -1;
            if (file >= 0 && mem >= 0 &&
                H5Sselect_hyperslab(file, H5S_SELECT_SET, &start, NULL, &count, NULL) >= 0 &&
                H5Dread(sp->labels, H5T_NATIVE_INT64, mem, file, H5P_DEFAULT, block) >= 0) {
                for (int64_t i = 0; i < n; i++) {
                    int lo = 0, hi = w->n_values - 1;
                    while (lo < hi) {
                        int mid = (lo + hi) / 2;
                        if (w->values[mid] < block[i])
                            lo = mid + 1;
                        else
                            hi = mid;
                    }
                    NN_ASSERT(w->values[lo] == block[i]);
                    block[i] = lo;
                }
                r = H5Dwrite(sp->labels, H5T_NATIVE_INT64, mem, file, H5P_DEFAULT, block);
            }
            if (file >= 0) H5Sclose(file);
            if (mem >= 0) H5Sclose(mem);
            if (r < 0) status = write_fail(w, "write", 0, err);
        }
    }
    free(block);
    return status;
}

/* Root attributes, the label values and the statistics; classes 0: no classes attribute
 * (a regression dataset). */
static NnStatus write_root(NnWriter *w, int64_t classes, char err[NN_ERR_LEN])
{
    if (nn_h5_attr_write_text(w->file, "format", "nn-mpi dataset", err) != NN_OK ||
        nn_h5_attr_write_i64(w->file, "format_version", NN_DATASET_WRITER_FORMAT_VERSION,
                             err) != NN_OK ||
        nn_h5_attr_write_text(w->file, "source", w->options.source ? w->options.source : "",
                              err) != NN_OK ||
        (classes && nn_h5_attr_write_i64(w->file, "classes", classes, err) != NN_OK))
        return NN_ERR;
    if (w->options.map_labels &&
        nn_h5_attr_write_i64s(w->file, "label_values", w->values, w->n_values, err) != NN_OK)
        return NN_ERR;
    if (!w->options.standardize) return NN_OK;
    int64_t F = w->features;
    float *stat = malloc(sizeof *stat * (size_t)F);
    if (!stat) return nn_fail(err, "out of memory");
    hsize_t dims[1] = {(hsize_t)F};
    for (int64_t j = 0; j < F; j++) stat[j] = (float)w->mean[j];
    NnStatus status = nn_h5_write_f32(w->file, "mean", 1, dims, stat, err);
    /* The population standard deviation; a constant feature gets 1, so that the trainer's
     * (x - mean) / std maps it to 0 rather than dividing by zero. */
    for (int64_t j = 0; j < F; j++) {
        float sd = (float)sqrt(w->m2[j] / (double)w->n_stat);
        stat[j] = sd > 0.0f ? sd : 1.0f;
    }
    if (status == NN_OK) status = nn_h5_write_f32(w->file, "std", 1, dims, stat, err);
    free(stat);
    return status;
}

NnStatus nn_writer_finish(NnWriter *w, char err[NN_ERR_LEN])
{
    NnStatus status = NN_ERR;
    for (int s = 0; s < NN_SPLIT_COUNT; s++)
        if (flush_split(w, (NnSplit)s, err) != NN_OK) goto fail;
    if (w->split[NN_SPLIT_TRAIN].written == 0) {
        nn_fail(err, "no training rows");
        goto fail;
    }
    if (w->split[NN_SPLIT_TEST].written == 0) {
        nn_fail(err, "no test rows (give a test file, or hold rows out with --test-fraction)");
        goto fail;
    }
    int64_t classes = w->options.map_labels ? w->n_values : w->max_label + 1;
    if (w->options.classes > 0) {
        if (w->options.map_labels && w->n_values > w->options.classes) {
            nn_fail(err, "%d distinct labels, more than --classes %lld", w->n_values,
                    (long long)w->options.classes);
            goto fail;
        }
        classes = w->options.classes;
    }
    if (classes < 2) classes = 2;
    if (w->options.targets) classes = 0;
    if (w->options.map_labels && map_labels(w, err) != NN_OK) goto fail;
    if (write_root(w, classes, err) != NN_OK) {
        /* nn_h5 names the object; what matters on a full disk is the errno. */
        write_fail(w, "write", 0, err);
        goto fail;
    }
    if (close_all(w) != 0) {
        write_fail(w, "write", 0, err);
        goto fail;
    }
    status = nn_atomic_commit(w->temp, w->path, err);
    free_writer(w);
    return status;
fail:
    nn_writer_abort(w);
    return status;
}
