/* NumPy to dataset. The .npy format (numpy.lib.format) is a magic string, a version, and a
 * Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (N, F), } padded
 * with spaces, then the raw array; no Debian C library reads it, so the header is parsed
 * here. A .npz is a zip of .npy members, read as streams through libzip. Rows are read a
 * block at a time and converted, so memory does not grow with N. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "nnmpi/nn_atomic_file.h"
#include "nnmpi/nn_convert.h"
#include "nnmpi/nn_dataset.h"

#define NPY_MAX_HEADER 65536
#define NPY_MAX_DIMS 32
/* Bytes of features read at a time (at least one row). */
#define BLOCK_BYTES ((int64_t)4 << 20)

typedef struct {
    char name[4200]; /* "X.npy" or "data.npz: array 'X'" for messages */
    FILE *file;
    zip_file_t *member;
    char kind;  /* 'f' float, 'i' signed, 'u' unsigned, 'b' bool */
    int size;   /* bytes per element */
    int swap;   /* big-endian data */
    int64_t rows, per_row;
    int ndim;
} Npy;

static NnStatus read_exact(Npy *a, void *buf, size_t n, char err[NN_ERR_LEN])
{
    size_t got = 0;
    while (got < n) {
        if (a->file) {
            size_t r = fread((char *)buf + got, 1, n - got, a->file);
            if (r == 0)
                return ferror(a->file)
                           ? nn_fail(err, "%s: cannot read: %s", a->name, strerror(errno))
                           : nn_fail(err, "%s: truncated: the header promises more data",
                                     a->name);
            got += r;
        } else {
            zip_int64_t r = zip_fread(a->member, (char *)buf + got, n - got);
            if (r < 0)
                return nn_fail(err, "%s: cannot read: %s", a->name,
                               zip_file_strerror(a->member));
            if (r == 0) return nn_fail(err, "%s: truncated: the header promises more data", a->name);
            got += (size_t)r;
        }
    }
    return NN_OK;
}

/* The value text after 'key': in the header dict, or NULL. */
static const char *dict_value(const char *header, const char *key)
{
    char quoted[32];
    snprintf(quoted, sizeof quoted, "'%s'", key);
    const char *at = strstr(header, quoted);
    if (!at) return NULL;
    at += strlen(quoted);
    at += strspn(at, " ");
    if (*at != ':') return NULL;
    at++;
    return at + strspn(at, " ");
}

/* Reads and checks the header; leaves the stream at the data. */
static NnStatus read_header(Npy *a, char err[NN_ERR_LEN])
{
    unsigned char pre[10];
    if (read_exact(a, pre, 10, err) != NN_OK) return NN_ERR;
    if (memcmp(pre, "\x93NUMPY", 6) != 0)
        return nn_fail(err, "%s: not a .npy array (no \\x93NUMPY magic)", a->name);
    size_t len;
    int major = pre[6];
    if (major == 1) {
        len = (size_t)pre[8] | (size_t)pre[9] << 8;
    } else if (major == 2 || major == 3) {
        unsigned char more[2];
        if (read_exact(a, more, 2, err) != NN_OK) return NN_ERR;
        len = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)more[0] << 16 | (size_t)more[1] << 24;
    } else {
        return nn_fail(err, "%s: .npy format version %d is not known", a->name, major);
    }
    if (len > NPY_MAX_HEADER) return nn_fail(err, "%s: header of %zu bytes", a->name, len);
    char *h = malloc(len + 1);
    if (!h) return nn_fail(err, "out of memory");
    NnStatus status = read_exact(a, h, len, err);
    if (status != NN_OK) goto done;
    h[len] = '\0';
    status = NN_ERR;
    const char *descr = dict_value(h, "descr"), *order = dict_value(h, "fortran_order"),
               *shape = dict_value(h, "shape");
    if (!descr || !order || !shape) {
        nn_fail(err, "%s: header without descr, fortran_order and shape: %.200s", a->name, h);
        goto done;
    }
    if (*descr != '\'') {
        nn_fail(err, "%s: a structured array (dtype %.60s); save a plain numeric array",
                a->name, descr);
        goto done;
    }
    char endian = descr[1], kind = descr[2];
    int size = atoi(descr + 3);
    if (kind == 'O') {
        nn_fail(err, "%s: an object array (dtype object) cannot be read; save a numeric array "
                     "(e.g. x.astype(np.float32))", a->name);
        goto done;
    }
    int ok = (endian == '<' || endian == '>' || endian == '|' || endian == '=') &&
             ((kind == 'f' && (size == 4 || size == 8)) ||
              ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8)) ||
              (kind == 'b' && size == 1));
    if (!ok) {
        const char *end = strchr(descr + 1, '\'');
        nn_fail(err, "%s: dtype %.*s is not supported (float32, float64, integers or bool)",
                a->name, end ? (int)(end - descr + 1) : 8, descr);
        goto done;
    }
    a->kind = kind;
    a->size = size;
    a->swap = endian == '>' && size > 1;
    if (strncmp(order, "False", 5) != 0) {
        nn_fail(err, "%s: Fortran order (column-major) is not supported; save "
                     "np.ascontiguousarray(x)", a->name);
        goto done;
    }
    if (*shape != '(') {
        nn_fail(err, "%s: bad shape in the header: %.60s", a->name, shape);
        goto done;
    }
    a->ndim = 0;
    a->per_row = 1;
    const char *p = shape + 1;
    for (;;) {
        p += strspn(p, " ,");
        if (*p == ')') break;
        char *end = NULL;
        errno = 0;
        long long d = strtoll(p, &end, 10);
        if (end == p || d < 0 || errno || a->ndim == NPY_MAX_DIMS) {
            nn_fail(err, "%s: bad shape in the header: %.60s", a->name, shape);
            goto done;
        }
        if (d > (INT64_C(1) << 40) || (a->ndim > 0 && a->per_row * d > (INT64_C(1) << 40))) {
            nn_fail(err, "%s: shape too large: %.60s", a->name, shape);
            goto done;
        }
        if (a->ndim == 0)
            a->rows = d;
        else
            a->per_row *= d;
        a->ndim++;
        p = end;
    }
    if (a->ndim == 0) {
        nn_fail(err, "%s: a scalar, not an array of rows", a->name);
        goto done;
    }
    status = NN_OK;
done:
    free(h);
    return status;
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

static void swap_bytes(unsigned char *p, int64_t count, int size)
{
    for (int64_t i = 0; i < count; i++, p += size)
        for (int k = 0; k < size / 2; k++) {
            unsigned char t = p[k];
            p[k] = p[size - 1 - k];
            p[size - 1 - k] = t;
        }
}

/* Element i of a raw buffer as a double (features) or an int64 (labels). */
static double element_f64(const Npy *a, const unsigned char *raw, int64_t i)
{
    const void *p = raw + i * a->size;
    switch (a->kind) {
    case 'f': return a->size == 4 ? (double)*(const float *)p : *(const double *)p;
    case 'b': return *(const uint8_t *)p != 0;
    case 'i':
        return a->size == 1 ? *(const int8_t *)p : a->size == 2 ? *(const int16_t *)p
               : a->size == 4 ? *(const int32_t *)p : (double)*(const int64_t *)p;
    default:
        return a->size == 1 ? *(const uint8_t *)p : a->size == 2 ? *(const uint16_t *)p
               : a->size == 4 ? *(const uint32_t *)p : (double)*(const uint64_t *)p;
    }
}

/* Regression: the targets per row of array y, shape (N) or (N, T); 0 with err set for any
 * other shape. */
static int64_t targets_per_row(const Npy *y, char err[NN_ERR_LEN])
{
    if (y->ndim <= 2 && y->per_row >= 1 && y->per_row <= NN_DATASET_MAX_TARGETS)
        return y->per_row;
    nn_fail(err, "%s: targets must have shape (N,) or (N, T) with 1 <= T <= %d", y->name,
            NN_DATASET_MAX_TARGETS);
    return 0;
}

/* Element i of the labels buffer as a label checked by the writer; row names it. */
static NnStatus read_label(const Npy *y, const unsigned char *raw, int64_t i, int64_t row,
                           NnWriter *w, int64_t *label, char err[NN_ERR_LEN])
{
    const void *p = raw + i * y->size;
    if (y->kind == 'u' && y->size == 8 && *(const uint64_t *)p > (uint64_t)INT64_MAX)
        return nn_fail(err, "%s: row %lld: label %llu is too large", y->name, (long long)row,
                       (unsigned long long)*(const uint64_t *)p);
    *label = y->size == 8 ? *(const int64_t *)p : (int64_t)element_f64(y, raw, i);
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
        double v = element_f64(y, raw, i * T + k);
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
    if (T && y->kind == 'b')
        return nn_fail(err, "%s: targets of dtype bool; expected floats or integers", y->name);
    if (!T && y->kind != 'i' && y->kind != 'u')
        return nn_fail(err, "%s: labels of dtype %s; expected integers (y.astype(np.int64))",
                       y->name, y->kind == 'f' ? "float" : "bool");
    if (!T && (y->ndim > 2 || y->per_row != 1))
        return nn_fail(err, "%s: labels must be one per row, shape (N,) or (N, 1)", y->name);
    if (x->rows != y->rows)
        return nn_fail(err, "%s has %lld rows but %s has %lld", x->name, (long long)x->rows,
                       y->name, (long long)y->rows);
    if (x->rows == 0) return nn_fail(err, "%s: no rows", x->name);
    int64_t F = x->per_row, Y = T ? T : 1; /* values of y per row */
    int64_t row_bytes = F * x->size > Y * y->size ? F * x->size : Y * y->size;
    int64_t block = BLOCK_BYTES / row_bytes;
    if (block < 1) block = 1;
    unsigned char *xraw = malloc((size_t)(block * F * x->size));
    unsigned char *yraw = malloc((size_t)(block * Y * y->size));
    float *row = malloc(sizeof *row * (size_t)F), *targets = malloc(sizeof *targets * (size_t)Y);
    NnStatus status = xraw && yraw && row && targets ? NN_OK : nn_fail(err, "out of memory");
    for (int64_t at = 0; at < x->rows && status == NN_OK; at += block) {
        int64_t n = x->rows - at < block ? x->rows - at : block;
        if (read_exact(x, xraw, (size_t)(n * F * x->size), err) != NN_OK ||
            read_exact(y, yraw, (size_t)(n * Y * y->size), err) != NN_OK) {
            status = NN_ERR;
            break;
        }
        if (x->swap) swap_bytes(xraw, n * F, x->size);
        if (y->swap) swap_bytes(yraw, n * Y, y->size);
        for (int64_t i = 0; i < n && status == NN_OK; i++) {
            int64_t label = 0;
            status = T ? read_targets(y, yraw, i, T, at + i, targets, err)
                       : read_label(y, yraw, i, at + i, w, &label, err);
            for (int64_t j = 0; j < F && status == NN_OK; j++) {
                double v = element_f64(x, xraw, i * F + j);
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
    if (n == 4 && a[2].per_row != a[0].per_row) {
        nn_fail(err, "%s has %lld features per row but %s has %lld", a[2].name,
                (long long)a[2].per_row, a[0].name, (long long)a[0].per_row);
        goto done;
    }
    if (o->regression) {
        options.targets = targets_per_row(&a[1], err);
        if (options.targets == 0 || (n == 4 && targets_per_row(&a[3], err) == 0)) goto done;
        if (n == 4 && a[3].per_row != options.targets) {
            nn_fail(err, "%s has %lld targets per row but %s has %lld", a[3].name,
                    (long long)a[3].per_row, a[1].name, (long long)options.targets);
            goto done;
        }
    }
    if (nn_writer_open(&w, out, a[0].per_row, &options, err) != NN_OK) goto done;
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
