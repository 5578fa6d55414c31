/* LIBSVM/SVMlight to dataset: one pass finds the feature count (the largest index, unless
 * stated) and checks every token; a second pass writes the rows. The labels go through the
 * writer's label mapping (ascending values -> 0..k-1); in a regression file the first field
 * is a real-valued target instead. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnmpi/nn_atomic_file.h"
#include "nnmpi/nn_convert.h"
#include "nnmpi/nn_number.h"

typedef struct {
    const char *path;
    int64_t line;
    int64_t features; /* 0 in the first pass when not stated: no limit */
    int64_t max_index;
    int regression; /* the first field is a target, not a label */
    /* The current row. */
    int64_t label;
    float target;
    int64_t *index; /* 0-based indices of its values, ascending */
    float *value;
    int64_t n, cap;
    char *err;
} Row;

static NnStatus token_fail(Row *r, const char *token, size_t len, const char *what)
{
    return nn_fail(r->err, "%s:%lld: token '%.*s': %s", r->path, (long long)r->line,
                   len > 64 ? 64 : (int)len, token, what);
}

/* Parses one line (NUL-terminated, newline stripped) into r. *blank = 1 for a line with
 * no label (empty or a comment). */
static NnStatus parse_line(Row *r, char *line, int *blank)
{
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    r->n = 0;
    *blank = 1;
    const char *sep = " \t\r\n\v\f";
    char *p = line + strspn(line, sep);
    if (*p == '\0') return NN_OK;
    *blank = 0;
    size_t len = strcspn(p, sep);
    if (r->regression ? nn_parse_float(p, len, &r->target) != 0
                      : nn_parse_label(p, len, &r->label) != 0)
        return token_fail(r, p, len, r->regression ? "the target is not a finite number"
                                                   : "the label is not an integer");
    int64_t last = 0;
    for (p += len, p += strspn(p, sep); *p; p += len, p += strspn(p, sep)) {
        len = strcspn(p, sep);
        const char *colon = memchr(p, ':', len);
        if (!colon) return token_fail(r, p, len, "expected INDEX:VALUE");
        size_t ilen = (size_t)(colon - p);
        if (ilen == 3 && memcmp(p, "qid", 3) == 0) continue;
        int64_t index = 0;
        size_t i = 0;
        for (; i < ilen && (unsigned)(p[i] - '0') < 10 && index < ((int64_t)1 << 40); i++)
            index = index * 10 + (p[i] - '0');
        if (ilen == 0 || i != ilen)
            return token_fail(r, p, len, "the index is not an integer >= 1");
        if (index < 1) return token_fail(r, p, len, "indices start at 1");
        if (index <= last)
            return token_fail(r, p, len, "indices must ascend (each after the previous one)");
        if (r->features > 0 && index > r->features) {
            char what[96];
            snprintf(what, sizeof what, "index beyond the %lld features", (long long)r->features);
            return token_fail(r, p, len, what);
        }
        float v;
        if (nn_parse_float(colon + 1, len - ilen - 1, &v) != 0)
            return token_fail(r, p, len, "the value is not a finite number");
        last = index;
        if (r->n == r->cap) {
            int64_t cap = r->cap ? 2 * r->cap : 64;
            int64_t *gi = realloc(r->index, sizeof *gi * (size_t)cap);
            if (gi) r->index = gi;
            float *gv = gi ? realloc(r->value, sizeof *gv * (size_t)cap) : NULL;
            if (!gv) return nn_fail(r->err, "out of memory");
            r->value = gv;
            r->cap = cap;
        }
        r->index[r->n] = index - 1;
        r->value[r->n++] = v;
    }
    if (last > r->max_index) r->max_index = last;
    return NN_OK;
}

/* Reads path line by line; with w, adds each row (from split `from`) to it. */
static NnStatus pass(Row *r, const char *path, NnWriter *w, NnSplit from, float *x)
{
    if (nn_file_check_regular(path, NULL, r->err) != NN_OK) return NN_ERR;
    FILE *f = fopen(path, "r");
    if (!f) return nn_fail(r->err, "%s: cannot open: %s", path, strerror(errno));
    setvbuf(f, NULL, _IOFBF, 1 << 20);
    r->path = path;
    r->line = 0;
    char *line = NULL;
    size_t size = 0;
    int64_t rows = 0;
    NnStatus status = NN_OK;
    while (status == NN_OK) {
        errno = 0;
        ssize_t got = getline(&line, &size, f);
        if (got < 0) {
            if (ferror(f)) status = nn_fail(r->err, "%s: cannot read: %s", path, strerror(errno));
            break;
        }
        r->line++;
        if ((size_t)got != strlen(line)) {
            status = nn_fail(r->err, "%s:%lld: a NUL byte: not a text file", path,
                             (long long)r->line);
            break;
        }
        int blank;
        status = parse_line(r, line, &blank);
        if (status != NN_OK || blank) continue;
        rows++;
        if (!w) continue;
        char why[NN_ERR_LEN];
        if (!r->regression && nn_writer_label(w, r->label, why) != NN_OK) {
            status = nn_fail(r->err, "%s:%lld: %s", path, (long long)r->line, why);
            break;
        }
        for (int64_t i = 0; i < r->n; i++) x[r->index[i]] = r->value[i];
        status = r->regression ? nn_writer_add_targets(w, from, x, &r->target, r->err)
                               : nn_writer_add(w, from, x, r->label, r->err);
        for (int64_t i = 0; i < r->n; i++) x[r->index[i]] = 0.0f;
    }
    free(line);
    fclose(f);
    if (status == NN_OK && rows == 0) status = nn_fail(r->err, "%s: no data rows", path);
    return status;
}

NnStatus nn_convert_libsvm(const char *train, const char *test, const char *out,
                           int64_t features, int regression, const NnWriterOptions *wo,
                           char err[NN_ERR_LEN])
{
    Row r = {.features = features, .regression = regression, .err = err};
    NnWriterOptions options = *wo;
    options.map_labels = !regression;
    options.targets = regression ? 1 : 0;
    const char *files[2] = {train, test};
    NnStatus status = NN_OK;
    for (int f = 0; f < 2 && files[f] && status == NN_OK; f++)
        status = pass(&r, files[f], NULL, NN_SPLIT_TRAIN, NULL);
    if (status == NN_OK && features == 0) features = r.max_index;
    if (status == NN_OK && features == 0)
        status = nn_fail(err, "%s: no features: every row has a %s only", train,
                         regression ? "target" : "label");
    NnWriter *w = NULL;
    float *x = NULL;
    if (status == NN_OK) status = nn_writer_open(&w, out, features, &options, err);
    if (status == NN_OK) {
        x = calloc((size_t)features, sizeof *x);
        if (!x) status = nn_fail(err, "out of memory for a row of %lld features", (long long)features);
    }
    r.features = features;
    for (int f = 0; f < 2 && files[f] && status == NN_OK; f++)
        status = pass(&r, files[f], w, f == 0 ? NN_SPLIT_TRAIN : NN_SPLIT_TEST, x);
    if (w) {
        if (status == NN_OK)
            status = nn_writer_finish(w, err);
        else
            nn_writer_abort(w);
    }
    free(x);
    free(r.index);
    free(r.value);
    return status;
}
