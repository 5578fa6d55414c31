#include "nnmpi/nn_idx.h"

#include <errno.h>
#include <string.h>
#include <zlib.h>

/* Reads exactly n bytes; returns how many it got (fewer at end of data) or -1 on error. */
static int64_t read_bytes(gzFile f, uint8_t *buf, int64_t n)
{
    int64_t got = 0;
    while (got < n) {
        unsigned chunk = n - got > (1 << 30) ? (1u << 30) : (unsigned)(n - got);
        int r = gzread(f, buf + got, chunk);
        if (r < 0) return -1;
        if (r == 0) break;
        got += r;
    }
    return got;
}

static const char *gz_problem(gzFile f)
{
    int code;
    const char *msg = gzerror(f, &code);
    return code == Z_ERRNO ? strerror(errno) : msg;
}

static NnStatus read_idx(const char *path, int dims, const char *what, NnIdxArray *out,
                         char err[NN_ERR_LEN])
{
    memset(out, 0, sizeof *out);
    gzFile f = gzopen(path, "rb");
    if (!f) return nn_fail(err, "%s: cannot open: %s", path, strerror(errno));
    NnStatus status = NN_ERR;
    uint8_t header[16];
    int64_t header_len = 4 + 4 * dims;
    int64_t got = read_bytes(f, header, header_len);
    if (got < 0) {
        nn_fail(err, "%s: read error: %s", path, gz_problem(f));
        goto done;
    }
    if (got < 4) {
        nn_fail(err, "%s: truncated: %lld bytes, too short for an IDX header", path,
                (long long)got);
        goto done;
    }
    uint32_t magic = (uint32_t)header[0] << 24 | (uint32_t)header[1] << 16 |
                     (uint32_t)header[2] << 8 | header[3];
    uint32_t expected = 0x00000800u | (uint32_t)dims;
    if (magic != expected) {
        nn_fail(err, "%s: bad magic number 0x%08x, expected 0x%08x (IDX %s, unsigned bytes)",
                path, magic, expected, what);
        goto done;
    }
    if (got < header_len) {
        nn_fail(err, "%s: truncated: header needs %lld bytes, file has %lld", path,
                (long long)header_len, (long long)got);
        goto done;
    }
    int64_t size[3] = {1, 1, 1};
    for (int d = 0; d < dims; d++) {
        const uint8_t *p = header + 4 + 4 * d;
        size[d] = (int64_t)p[0] << 24 | (int64_t)p[1] << 16 | (int64_t)p[2] << 8 | p[3];
    }
    if (size[0] > INT32_MAX || size[1] > 65536 || size[2] > 65536 || size[1] == 0 ||
        size[2] == 0) {
        nn_fail(err, "%s: implausible dimensions %lld x %lld x %lld", path, (long long)size[0],
                (long long)size[1], (long long)size[2]);
        goto done;
    }
    int64_t total = size[0] * size[1] * size[2];
    /* Grow the buffer as data arrives, so a corrupt count cannot demand a huge allocation. */
    int64_t cap = total < (1 << 20) ? total : (1 << 20);
    uint8_t *data = malloc(cap ? (size_t)cap : 1);
    int64_t have = 0;
    for (;;) {
        if (!data) {
            nn_fail(err, "%s: out of memory for %lld bytes", path, (long long)cap);
            goto done;
        }
        int64_t r = read_bytes(f, data + have, cap - have);
        if (r < 0) {
            free(data);
            nn_fail(err, "%s: read error: %s", path, gz_problem(f));
            goto done;
        }
        have += r;
        if (have < cap || cap == total) break;
        cap = cap * 2 < total ? cap * 2 : total;
        uint8_t *bigger = realloc(data, (size_t)cap);
        if (!bigger) free(data);
        data = bigger;
    }
    out->data = data;
    if (have < total) {
        nn_fail(err, "%s: truncated: header says %lld %s (%lld bytes of data), file has %lld",
                path, (long long)size[0], what, (long long)total, (long long)have);
        goto done;
    }
    uint8_t extra;
    int64_t more = read_bytes(f, &extra, 1);
    if (more != 0) {
        nn_fail(err, "%s: %s after the last of the %lld %s", path,
                more < 0 ? "read error" : "extra bytes", (long long)size[0], what);
        goto done;
    }
    out->count = size[0];
    out->rows = (int)size[1];
    out->cols = (int)size[2];
    status = NN_OK;
done:
    gzclose(f);
    if (status != NN_OK) nn_idx_free(out);
    return status;
}

NnStatus nn_idx_read_images(const char *path, NnIdxArray *out, char err[NN_ERR_LEN])
{
    return read_idx(path, 3, "images", out, err);
}

NnStatus nn_idx_read_labels(const char *path, NnIdxArray *out, char err[NN_ERR_LEN])
{
    return read_idx(path, 1, "labels", out, err);
}

void nn_idx_free(NnIdxArray *array)
{
    free(array->data);
    memset(array, 0, sizeof *array);
}
