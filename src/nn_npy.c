#include "nnmpi/nn_npy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NPY_MAX_HEADER 65536
#define NPY_MAX_DIMS 32
#define NPY_MAX_EXTENT (INT64_C(1) << 40)

NnStatus nn_npy_fread(void *file, void *buf, size_t n, const char *name, char err[NN_ERR_LEN])
{
    FILE *f = file;
    size_t got = 0;
    while (got < n) {
        size_t r = fread((char *)buf + got, 1, n - got, f);
        if (r == 0)
            return ferror(f) ? nn_fail(err, "%s: cannot read: %s", name, strerror(errno))
                             : nn_fail(err, "%s: truncated: the header promises more data",
                                       name);
        got += r;
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

/* The dict's descr: kind, size and byte order. */
static NnStatus parse_descr(const char *descr, const char *name, NnNpyHeader *h,
                            char err[NN_ERR_LEN])
{
    if (*descr != '\'')
        return nn_fail(err, "%s: a structured array (dtype %.60s); save a plain numeric array",
                       name, descr);
    char endian = descr[1], kind = descr[2];
    int size = atoi(descr + 3);
    if (kind == 'O')
        return nn_fail(err, "%s: an object array (dtype object) cannot be read; save a numeric "
                            "array (e.g. x.astype(np.float32))",
                       name);
    int ok = (endian == '<' || endian == '>' || endian == '|' || endian == '=') &&
             ((kind == 'f' && (size == 4 || size == 8)) ||
              ((kind == 'i' || kind == 'u') && (size == 1 || size == 2 || size == 4 || size == 8)) ||
              (kind == 'b' && size == 1));
    if (!ok) {
        const char *end = strchr(descr + 1, '\'');
        return nn_fail(err, "%s: dtype %.*s is not supported (float32, float64, integers or bool)",
                       name, end ? (int)(end - descr + 1) : 8, descr);
    }
    h->kind = kind;
    h->size = size;
    h->swap = endian == '>' && size > 1;
    return NN_OK;
}

/* The dict's shape tuple: rows and the product of the other dimensions. */
static NnStatus parse_shape(const char *shape, const char *name, NnNpyHeader *h,
                            char err[NN_ERR_LEN])
{
    if (*shape != '(') return nn_fail(err, "%s: bad shape in the header: %.60s", name, shape);
    h->ndim = 0;
    h->per_row = 1;
    const char *p = shape + 1;
    for (;;) {
        p += strspn(p, " ,");
        if (*p == ')') break;
        char *end = NULL;
        errno = 0;
        long long d = strtoll(p, &end, 10);
        if (end == p || d < 0 || errno || h->ndim == NPY_MAX_DIMS)
            return nn_fail(err, "%s: bad shape in the header: %.60s", name, shape);
        if (d > NPY_MAX_EXTENT || (h->ndim > 0 && h->per_row * d > NPY_MAX_EXTENT))
            return nn_fail(err, "%s: shape too large: %.60s", name, shape);
        if (h->ndim == 0)
            h->rows = d;
        else
            h->per_row *= d;
        h->ndim++;
        p = end;
    }
    if (h->ndim == 0) return nn_fail(err, "%s: a scalar, not an array of rows", name);
    return NN_OK;
}

NnStatus nn_npy_read_header(NnNpyRead read, void *stream, const char *name, NnNpyHeader *h,
                            char err[NN_ERR_LEN])
{
    memset(h, 0, sizeof *h);
    unsigned char pre[10];
    if (read(stream, pre, 10, name, err) != NN_OK) return NN_ERR;
    if (memcmp(pre, "\x93NUMPY", 6) != 0)
        return nn_fail(err, "%s: not a .npy array (no \\x93NUMPY magic)", name);
    size_t len;
    int major = pre[6];
    if (major == 1) {
        len = (size_t)pre[8] | (size_t)pre[9] << 8;
    } else if (major == 2 || major == 3) {
        unsigned char more[2];
        if (read(stream, more, 2, name, err) != NN_OK) return NN_ERR;
        len = (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)more[0] << 16 | (size_t)more[1] << 24;
    } else {
        return nn_fail(err, "%s: .npy format version %d is not known", name, major);
    }
    if (len > NPY_MAX_HEADER) return nn_fail(err, "%s: header of %zu bytes", name, len);
    char *text = malloc(len + 1);
    if (!text) return nn_fail(err, "out of memory");
    NnStatus status = read(stream, text, len, name, err);
    if (status != NN_OK) goto done;
    text[len] = '\0';
    status = NN_ERR;
    const char *descr = dict_value(text, "descr"), *order = dict_value(text, "fortran_order"),
               *shape = dict_value(text, "shape");
    if (!descr || !order || !shape) {
        nn_fail(err, "%s: header without descr, fortran_order and shape: %.200s", name, text);
        goto done;
    }
    if (parse_descr(descr, name, h, err) != NN_OK) goto done;
    if (strncmp(order, "False", 5) != 0) {
        nn_fail(err, "%s: Fortran order (column-major) is not supported; save "
                     "np.ascontiguousarray(x)",
                name);
        goto done;
    }
    if (parse_shape(shape, name, h, err) != NN_OK) goto done;
    status = NN_OK;
done:
    free(text);
    return status;
}

void nn_npy_swap(unsigned char *p, int64_t count, int size)
{
    for (int64_t i = 0; i < count; i++, p += size)
        for (int k = 0; k < size / 2; k++) {
            unsigned char t = p[k];
            p[k] = p[size - 1 - k];
            p[size - 1 - k] = t;
        }
}

double nn_npy_element(const NnNpyHeader *h, const unsigned char *raw, int64_t i)
{
    const unsigned char *p = raw + i * h->size;
    union {
        float f32;
        double f64;
        int8_t i8;
        int16_t i16;
        int32_t i32;
        int64_t i64;
        uint8_t u8;
        uint16_t u16;
        uint32_t u32;
        uint64_t u64;
    } v;
    memcpy(&v, p, (size_t)h->size); /* any alignment */
    switch (h->kind) {
    case 'f': return h->size == 4 ? (double)v.f32 : v.f64;
    case 'b': return v.u8 != 0;
    case 'i':
        return h->size == 1 ? v.i8 : h->size == 2 ? v.i16 : h->size == 4 ? v.i32 : (double)v.i64;
    default:
        return h->size == 1 ? v.u8 : h->size == 2 ? v.u16 : h->size == 4 ? v.u32 : (double)v.u64;
    }
}
