/* NumPy to dataset. A .npy file's header is parsed by nn_npy.h; a .npz is a zip of .npy
 * members, read as streams through libzip. Rows are read a block at a time and converted, so
 * memory does not grow with N. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "nnmpi/nn_atomic_file.h"
#include "nnmpi/nn_convert.h"
#include "nnmpi/nn_dataset.h"
#include "nnmpi/nn_npy.h"

/* Bytes of features read at a time (at least one row). */
#define BLOCK_BYTES ((int64_t)4 << 20)

typedef struct {
    char name[4200]; /* "X.npy" or "data.npz: array 'X'" for messages */
    FILE *file;
    zip_file_t *member;
    NnNpyHeader h;
} Npy;

/* An NnNpyRead for a member of a .npz archive (a zip_file_t *). */
static NnStatus zip_read(void *member, void *buf, size_t n, const char *name,
                         char err[NN_ERR_LEN])
{
    size_t got = 0;
    while (got < n) {
        zip_int64_t r = zip_fread(member, (char *)buf + got, n - got);
        if (r < 0) return nn_fail(err, "%s: cannot read: %s", name, zip_file_strerror(member));
        if (r == 0) return nn_fail(err, "%s: truncated: the header promises more data", name);
        got += (size_t)r;
    }
    return NN_OK;
}

static NnStatus read_exact(Npy *a, void *buf, size_t n, char err[NN_ERR_LEN])
{
    return a->file ? nn_npy_fread(a->file, buf, n, a->name, err)
                   : zip_read(a->member, buf, n, a->name, err);
}

/* Reads and checks the header; leaves the stream at the data. */
static NnStatus read_header(Npy *a, char err[NN_ERR_LEN])
{
    return a->file ? nn_npy_read_header(nn_npy_fread, a->file, a->name, &a->h, err)
                   : nn_npy_read_header(zip_read, a->member, a->name, &a->h, err);
}

static void close_array(Npy *a)
{
    if (a->file) fclose(a->file);
    if (a->member) zip_fclose(a->member);
    a->file = NULL;
    a->member = NULL;
}

static NnStatus open_npy(Npy *a, const char *path, char err[NN_ERR_LEN])
{
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s", path);
    if (nn_file_check_regular(path, NULL, err) != NN_OK) return NN_ERR;
    a->file = fopen(path, "rb");
    if (!a->file) return nn_fail(err, "%s: cannot open: %s", path, strerror(errno));
    setvbuf(a->file, NULL, _IOFBF, 1 << 20);
    return read_header(a, err);
}

static int has_member(zip_t *z, const char *key)
{
    char name[512];
    snprintf(name, sizeof name, "%s.npy", key);
    return zip_name_locate(z, name, 0) >= 0;
}

static NnStatus open_member(Npy *a, zip_t *z, const char *path, const char *key,
                            char err[NN_ERR_LEN])
{
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s: array '%s'", path, key);
    char name[512];
    snprintf(name, sizeof name, "%s.npy", key);
    zip_int64_t index = zip_name_locate(z, name, 0);
    if (index < 0) return nn_fail(err, "%s: no array '%s' in the archive", path, key);
    a->member = zip_fopen_index(z, (zip_uint64_t)index, 0);
    if (!a->member) return nn_fail(err, "%s: cannot open: %s", a->name, zip_strerror(z));
    return read_header(a, err);
}

/* Regression: the targets per row of array y, shape (N) or (N, T); 0 with err set for any
 * other shape. */
static int64_t targets_per_row(const Npy *y, char err[NN_ERR_LEN])
{
    if (y->h.ndim <= 2 && y->h.per_row >= 1 && y->h.per_row <= NN_DATASET_MAX_TARGETS)
        return y->h.per_row;
    nn_fail(err, "%s: targets must have shape (N,) or (N, T) with 1 <= T <= %d", y->name,
            NN_DATASET_MAX_TARGETS);
    return 0;
}

/* Element i of the labels buffer as a label checked by the writer; row names it. */
static NnStatus read_label(const Npy *y, const unsigned char *raw, int64_t i, int64_t row,
                           NnWriter *w, int64_t *label, char err[NN_ERR_LEN])
{
    const void *p = raw + i * y->h.size;
    if (y->h.kind == 'u' && y->h.size == 8 && *(const uint64_t *)p > (uint64_t)INT64_MAX)
        return nn_fail(err, "%s: row %lld: label %llu is too large", y->name, (long long)row,
                       (unsigned long long)*(const uint64_t *)p);
    *label = y->h.size == 8 ? *(const int64_t *)p : (int64_t)nn_npy_element(&y->h, raw, i);
    char why[NN_ERR_LEN];
    if (nn_writer_label(w, *label, why) != NN_OK)
        return nn_fail(err, "%s: row %lld: %s", y->name, (long long)row, why);
    return NN_OK;
}

/* Elements i*T .. i*T+T-1 of the targets buffer as finite float32 targets; row names them. */
static NnStatus read_targets(const Npy *y, const unsigned char *raw, int64_t i, int64_t T,
                             int64_t row, float *targets, char err[NN_ERR_LEN])
{
    for (int64_t k = 0; k < T; k++) {
        double v = nn_npy_element(&y->h, raw, i * T + k);
        targets[k] = (float)v;
        if (!isfinite(targets[k])) {
            char column[48] = "";
            if (T > 1) snprintf(column, sizeof column, ", column %lld", (long long)k);
            return nn_fail(err, "%s: row %lld%s: target %g is not a finite float32", y->name,
                           (long long)row, column, v);
        }
    }
    return NN_OK;
}

/* Streams the rows of one features/labels pair into the writer; with T > 0 (the writer's
 * targets) y holds T targets per row, its shape checked by targets_per_row. */
static NnStatus convert_pair(Npy *x, Npy *y, NnWriter *w, int64_t T, NnSplit from,
                             char err[NN_ERR_LEN])
{
    if (T && y->h.kind == 'b')
        return nn_fail(err, "%s: targets of dtype bool; expected floats or integers", y->name);
    if (!T && y->h.kind != 'i' && y->h.kind != 'u')
        return nn_fail(err, "%s: labels of dtype %s; expected integers (y.astype(np.int64))",
                       y->name, y->h.kind == 'f' ? "float" : "bool");
    if (!T && (y->h.ndim > 2 || y->h.per_row != 1))
        return nn_fail(err, "%s: labels must be one per row, shape (N,) or (N, 1)", y->name);
    if (x->h.rows != y->h.rows)
        return nn_fail(err, "%s has %lld rows but %s has %lld", x->name, (long long)x->h.rows,
                       y->name, (long long)y->h.rows);
    if (x->h.rows == 0) return nn_fail(err, "%s: no rows", x->name);
    int64_t F = x->h.per_row, Y = T ? T : 1; /* values of y per row */
    int64_t row_bytes = F * x->h.size > Y * y->h.size ? F * x->h.size : Y * y->h.size;
    int64_t block = BLOCK_BYTES / row_bytes;
    if (block < 1) block = 1;
    unsigned char *xraw = malloc((size_t)(block * F * x->h.size));
    unsigned char *yraw = malloc((size_t)(block * Y * y->h.size));
    float *row = malloc(sizeof *row * (size_t)F), *targets = malloc(sizeof *targets * (size_t)Y);
    NnStatus status = xraw && yraw && row && targets ? NN_OK : nn_fail(err, "out of memory");
    for (int64_t at = 0; at < x->h.rows && status == NN_OK; at += block) {
        int64_t n = x->h.rows - at < block ? x->h.rows - at : block;
        if (read_exact(x, xraw, (size_t)(n * F * x->h.size), err) != NN_OK ||
            read_exact(y, yraw, (size_t)(n * Y * y->h.size), err) != NN_OK) {
            status = NN_ERR;
            break;
        }
        if (x->h.swap) nn_npy_swap(xraw, n * F, x->h.size);
        if (y->h.swap) nn_npy_swap(yraw, n * Y, y->h.size);
        for (int64_t i = 0; i < n && status == NN_OK; i++) {
            int64_t label = 0;
            status = T ? read_targets(y, yraw, i, T, at + i, targets, err)
                       : read_label(y, yraw, i, at + i, w, &label, err);
            for (int64_t j = 0; j < F && status == NN_OK; j++) {
                double v = nn_npy_element(&x->h, xraw, i * F + j);
                row[j] = (float)v;
                if (!isfinite(row[j]))
                    status = nn_fail(err, "%s: row %lld, column %lld: %g is not a finite float32",
                                     x->name, (long long)(at + i), (long long)j, v);
            }
            if (status == NN_OK)
                status = T ? nn_writer_add_targets(w, from, row, targets, err)
                           : nn_writer_add(w, from, row, label, err);
        }
    }
    free(xraw);
    free(yraw);
    free(row);
    free(targets);
    return status;
}

NnStatus nn_convert_npy(const NnNpyOptions *o, const char *out, const NnWriterOptions *wo,
                        char err[NN_ERR_LEN])
{
    Npy a[4]; /* features, labels, test features, test labels */
    memset(a, 0, sizeof a);
    int n = 2;
    zip_t *z = NULL;
    NnWriter *w = NULL;
    NnStatus status = NN_ERR;
    const char *what = o->regression ? "targets" : "labels";
    NnWriterOptions options = *wo;
    if (o->npz) {
        if (nn_file_check_regular(o->npz, NULL, err) != NN_OK) return NN_ERR;
        int code = 0;
        z = zip_open(o->npz, ZIP_RDONLY, &code);
        if (!z) {
            zip_error_t e;
            zip_error_init_with_code(&e, code);
            nn_fail(err, "%s: not a readable .npz (zip) archive: %s", o->npz,
                    zip_error_strerror(&e));
            zip_error_fini(&e);
            return NN_ERR;
        }
        const char *keys[4] = {o->features_key, o->labels_key, o->test_features_key,
                               o->test_labels_key};
        if (!keys[0]) keys[0] = has_member(z, "X") || !has_member(z, "x_train") ? "X" : "x_train";
        if (!keys[1]) keys[1] = has_member(z, "y") || !has_member(z, "y_train") ? "y" : "y_train";
        if (!keys[2] && has_member(z, "X_test")) keys[2] = "X_test";
        if (!keys[2] && has_member(z, "x_test")) keys[2] = "x_test";
        if (!keys[3] && keys[2] && has_member(z, "y_test")) keys[3] = "y_test";
        if (!keys[2] != !keys[3]) {
            nn_fail(err, "%s: a test features array '%s' without test %s (or the reverse); "
                         "name both with --test-features-key and --test-%s-key",
                    o->npz, keys[2] ? keys[2] : keys[3], what, what);
            goto done;
        }
        n = keys[2] ? 4 : 2;
        if (n == 4 && wo->test_fraction > 0) {
            nn_fail(err, "%s: holds test arrays '%s' and '%s': --test-fraction does not apply",
                    o->npz, keys[2], keys[3]);
            goto done;
        }
        for (int i = 0; i < n; i++)
            if (open_member(&a[i], z, o->npz, keys[i], err) != NN_OK) goto done;
    } else {
        const char *paths[4] = {o->features, o->labels, o->test_features, o->test_labels};
        n = paths[2] ? 4 : 2;
        for (int i = 0; i < n; i++)
            if (open_npy(&a[i], paths[i], err) != NN_OK) goto done;
    }
    if (n == 4 && a[2].h.per_row != a[0].h.per_row) {
        nn_fail(err, "%s has %lld features per row but %s has %lld", a[2].name,
                (long long)a[2].h.per_row, a[0].name, (long long)a[0].h.per_row);
        goto done;
    }
    if (o->regression) {
        options.targets = targets_per_row(&a[1], err);
        if (options.targets == 0 || (n == 4 && targets_per_row(&a[3], err) == 0)) goto done;
        if (n == 4 && a[3].h.per_row != options.targets) {
            nn_fail(err, "%s has %lld targets per row but %s has %lld", a[3].name,
                    (long long)a[3].h.per_row, a[1].name, (long long)options.targets);
            goto done;
        }
    }
    if (nn_writer_open(&w, out, a[0].h.per_row, &options, err) != NN_OK) goto done;
    if (convert_pair(&a[0], &a[1], w, options.targets, NN_SPLIT_TRAIN, err) != NN_OK) goto done;
    if (n == 4 && convert_pair(&a[2], &a[3], w, options.targets, NN_SPLIT_TEST, err) != NN_OK)
        goto done;
    status = nn_writer_finish(w, err);
    w = NULL;
done:
    nn_writer_abort(w);
    for (int i = 0; i < 4; i++) close_array(&a[i]);
    if (z) zip_discard(z);
    return status;
}
