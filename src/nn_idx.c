#include "nnmpi/nn_idx.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
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

/* Opens path for reading through zlib (raw or gzipped) if it is a regular file. The open
 * does not block (O_NONBLOCK), so a FIFO or device is refused instead of hanging. */
static gzFile open_regular(const char *path, char err[NN_ERR_LEN])
{
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        nn_fail(err, "%s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    const char *problem = NULL;
    if (fstat(fd, &st) != 0)
        problem = strerror(errno);
    else if (!S_ISREG(st.st_mode))
        problem = "not a regular file";
    else if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) != 0)
        problem = strerror(errno);
    gzFile f = problem ? NULL : gzdopen(fd, "rb"); /* on success f owns fd */
    if (!f) {
        nn_fail(err, "%s: %s", path, problem ? problem : "cannot open: out of memory");
        close(fd);
    }
    return f;
}

static NnStatus read_idx(const char *path, int dims, const char *what,
                         const NnIdxLimits *limits, NnIdxArray *out, char err[NN_ERR_LEN])
{
    memset(out, 0, sizeof *out);
    gzFile f = open_regular(path, err);
    if (!f) return NN_ERR;
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
    if (size[1] > 65536 || size[2] > 65536 || size[1] == 0 || size[2] == 0) {
        nn_fail(err, "%s: implausible dimensions %lld x %lld x %lld", path, (long long)size[0],
                (long long)size[1], (long long)size[2]);
        goto done;
    }
    if (size[0] > limits->max_count) {
        nn_fail(err, "%s: %lld %s, more than the limit of %lld", path, (long long)size[0], what,
                (long long)limits->max_count);
        goto done;
    }
    int64_t item = size[1] * size[2]; /* each at most 2^16 */
    if (item > limits->max_item_bytes || size[0] > INT64_MAX / item) {
        nn_fail(err, "%s: %s of %lld x %lld = %lld bytes each, more than the limit of %lld", path,
                what, (long long)size[1], (long long)size[2], (long long)item,
                (long long)limits->max_item_bytes);
        goto done;
    }
    if (size[0] == 0) {
        nn_fail(err, "%s: holds no %s (count 0)", path, what);
        goto done;
    }
    int64_t total = size[0] * item;
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

NnStatus nn_idx_read_images(const char *path, const NnIdxLimits *limits, NnIdxArray *out,
                            char err[NN_ERR_LEN])
{
    return read_idx(path, 3, "images", limits, out, err);
}

NnStatus nn_idx_read_labels(const char *path, const NnIdxLimits *limits, NnIdxArray *out,
                            char err[NN_ERR_LEN])
{
    return read_idx(path, 1, "labels", limits, out, err);
}

void nn_idx_free(NnIdxArray *array)
{
    free(array->data);
    memset(array, 0, sizeof *array);
}
