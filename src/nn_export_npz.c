/* NumPy archive export (nn_export_npz.h). Each member is a .npy file (numpy.lib.format
 * version 1.0: the magic "\x93NUMPY", 1, 0, a little-endian uint16 header length, then a
 * Python dict literal {'descr': ..., 'fortran_order': False, 'shape': (...), } padded with
 * spaces to a newline that ends at a multiple of 64 bytes, then the C-order data), built
 * in memory; libzip puts them into a zip archive that is also in memory (a buffer source),
 * and the archive's bytes are written atomically. */
#include "nnmpi/nn_export_npz.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zip.h>

#include "nnmpi/nn_atomic_file.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
#define HOST_ORDER ">"
#else
#define HOST_ORDER "<"
#endif

/* Every member's time stamp (1980-01-02 00:00 local time, within the DOS date range in any
 * time zone): the same checkpoint gives the same bytes. */
#define MEMBER_MTIME ((time_t)315619200)

/* The .npy bytes of an array of dtype `descr` and shape dims[0..ndim) (ndim 0: a scalar)
 * whose C-order data is data[0..data_bytes). Caller frees *out. */
static NnStatus npy_bytes(const char *descr, int ndim, const int64_t *dims, const void *data,
                          size_t data_bytes, uint8_t **out, size_t *size, const char *where,
                          char err[NN_ERR_LEN])
{
    char shape[128] = "";
    int at = 0;
    for (int k = 0; k < ndim; k++)
        at += snprintf(shape + at, sizeof shape - (size_t)at, "%s%lld", k ? ", " : "",
                       (long long)dims[k]);
    char dict[256];
    int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%s%s), }",
                       descr, shape, ndim == 1 ? "," : "");
    NN_ASSERT(len > 0 && len < (int)sizeof dict - 64);
    /* Pad with spaces and a final newline so that the data starts at a multiple of 64. */
    size_t header = 10 + (size_t)len + 1;
    size_t padded = (header + 63) / 64 * 64;
    *size = padded + data_bytes;
    *out = malloc(*size);
    if (!*out) return nn_fail(err, "%s: out of memory for %zu bytes", where, *size);
    uint8_t *p = *out;
    memcpy(p, "\x93NUMPY\x01\x00", 8);
    size_t hlen = padded - 10;
    p[8] = (uint8_t)(hlen & 0xff);
    p[9] = (uint8_t)(hlen >> 8);
    memcpy(p + 10, dict, (size_t)len);
    memset(p + 10 + len, ' ', padded - 10 - (size_t)len - 1);
    p[padded - 1] = '\n';
    if (data_bytes) memcpy(p + padded, data, data_bytes);
    return NN_OK;
}

typedef struct {
    zip_t *zip;
    const char *path; /* the output, for messages */
} Archive;

/* Adds member NAME.npy holding the array; on failure err names the member. */
static NnStatus add_array(Archive *a, const char *name, const char *descr, int ndim,
                          const int64_t *dims, const void *data, size_t data_bytes,
                          char err[NN_ERR_LEN])
{
    char member[128], where[512];
    snprintf(member, sizeof member, "%s.npy", name);
    snprintf(where, sizeof where, "%s: member %s", a->path, member);
    uint8_t *bytes;
    size_t size;
    if (npy_bytes(descr, ndim, dims, data, data_bytes, &bytes, &size, where, err) != NN_OK)
        return NN_ERR;
    /* freep = 1: libzip frees the bytes with the source. */
    zip_source_t *src = zip_source_buffer(a->zip, bytes, size, 1);
    if (!src) {
        free(bytes);
        return nn_fail(err, "%s: %s", where, zip_strerror(a->zip));
    }
    zip_int64_t index = zip_file_add(a->zip, member, src, ZIP_FL_ENC_UTF_8);
    if (index < 0) {
        zip_source_free(src);
        return nn_fail(err, "%s: %s", where, zip_strerror(a->zip));
    }
    /* Stored, as numpy.savez does: float weights barely compress. */
    if (zip_set_file_compression(a->zip, (zip_uint64_t)index, ZIP_CM_STORE, 0) != 0 ||
        zip_file_set_mtime(a->zip, (zip_uint64_t)index, MEMBER_MTIME, 0) != 0)
        return nn_fail(err, "%s: %s", where, zip_strerror(a->zip));
    return NN_OK;
}

static NnStatus add_floats(Archive *a, const char *name, int ndim, const int64_t *dims,
                           const float *data, char err[NN_ERR_LEN])
{
    size_t count = 1;
    for (int k = 0; k < ndim; k++) count *= (size_t)dims[k];
    return add_array(a, name, HOST_ORDER "f4", ndim, dims, data, count * sizeof(float), err);
}

/* A 0-d unicode array (dtype <Un: UTF-32LE, n code points) holding the ASCII text. */
static NnStatus add_text(Archive *a, const char *name, const char *text, char err[NN_ERR_LEN])
{
    uint8_t utf32[4 * 64] = {0};
    size_t n = strlen(text);
    NN_ASSERT(n < 64);
    for (size_t k = 0; k < n; k++) utf32[4 * k] = (uint8_t)text[k];
    char descr[16];
    /* numpy has no U0: an empty string is one NUL code point, which it strips. */
    snprintf(descr, sizeof descr, "<U%zu", n ? n : 1);
    return add_array(a, name, descr, 0, NULL, utf32, 4 * (n ? n : 1), err);
}

/* Fills the archive with ck's arrays. */
static NnStatus add_model(Archive *a, const NnCheckpoint *ck, char err[NN_ERR_LEN])
{
    const NnModel *m = &ck->model;
    const NnPreprocess *p = &ck->prep;
    char name[64];
    for (int l = 0; l < m->n_layers; l++) {
        const NnLayer *ly = &m->layers[l];
        int64_t w_dims[2] = {ly->out, ly->in};
        snprintf(name, sizeof name, "layer_%d_weights", l);
        if (add_floats(a, name, 2, w_dims, ly->weights, err) != NN_OK) return NN_ERR;
        snprintf(name, sizeof name, "layer_%d_biases", l);
        if (add_floats(a, name, 1, w_dims, ly->biases, err) != NN_OK) return NN_ERR;
    }
    int64_t sizes[NN_MAX_LAYERS + 1];
    sizes[0] = m->inputs;
    for (int l = 0; l < m->n_layers; l++) sizes[l + 1] = m->layers[l].out;
    int64_t n_sizes = m->n_layers + 1;
    if (add_array(a, "layer_sizes", HOST_ORDER "i8", 1, &n_sizes, sizes,
                  sizeof(int64_t) * (size_t)n_sizes, err) != NN_OK ||
        add_text(a, "activation", nn_activation_name(m->activation), err) != NN_OK ||
        add_text(a, "loss", nn_loss_name(m->loss), err) != NN_OK ||
        add_text(a, "feature_type", nn_feature_type_name(p->type), err) != NN_OK ||
        add_text(a, "run_id", ck->state.run_id, err) != NN_OK ||
        add_floats(a, "scale", 0, NULL, &p->scale, err) != NN_OK)
        return NN_ERR;
    int64_t f = p->features;
    if (p->mean && add_floats(a, "mean", 1, &f, p->mean, err) != NN_OK) return NN_ERR;
    if (p->std && add_floats(a, "std", 1, &f, p->std, err) != NN_OK) return NN_ERR;
    return NN_OK;
}

NnStatus nn_export_npz(const NnCheckpoint *ck, const char *path, char err[NN_ERR_LEN])
{
    NnStatus status = NN_ERR;
    zip_error_t zerr;
    zip_error_init(&zerr);
    Archive a = {NULL, path};
    uint8_t *bytes = NULL;
    zip_source_t *buffer = zip_source_buffer_create(NULL, 0, 0, &zerr);
    if (!buffer) {
        nn_fail(err, "%s: cannot make an archive in memory: %s", path, zip_error_strerror(&zerr));
        goto done;
    }
    a.zip = zip_open_from_source(buffer, ZIP_TRUNCATE, &zerr);
    if (!a.zip) {
        nn_fail(err, "%s: cannot make an archive in memory: %s", path, zip_error_strerror(&zerr));
        goto done;
    }
    zip_source_keep(buffer); /* zip_close would free it; its bytes are read after */
    if (add_model(&a, ck, err) != NN_OK) goto done;
    if (zip_close(a.zip) != 0) {
        nn_fail(err, "%s: cannot finish the archive: %s", path, zip_strerror(a.zip));
        goto done;
    }
    a.zip = NULL;

    zip_stat_t st;
    if (zip_source_stat(buffer, &st) != 0 || !(st.valid & ZIP_STAT_SIZE) ||
        zip_source_open(buffer) != 0) {
        nn_fail(err, "%s: cannot read the archive back from memory: %s", path,
                zip_error_strerror(zip_source_error(buffer)));
        goto done;
    }
    bytes = malloc(st.size ? st.size : 1);
    zip_int64_t got = bytes ? zip_source_read(buffer, bytes, st.size) : -1;
    zip_source_close(buffer);
    if (!bytes) {
        nn_fail(err, "%s: out of memory for the %llu bytes of the archive", path,
                (unsigned long long)st.size);
        goto done;
    }
    if (got < 0 || (zip_uint64_t)got != st.size) {
        nn_fail(err, "%s: cannot read the archive back from memory", path);
        goto done;
    }
    status = nn_atomic_write(path, bytes, (size_t)st.size, 0, err);
done:
    if (a.zip) zip_discard(a.zip); /* also frees buffer once: it holds a reference */
    if (buffer) zip_source_free(buffer);
    free(bytes);
    zip_error_fini(&zerr);
    return status;
}
