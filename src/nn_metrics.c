/* JSON through jansson (Debian's libjansson-dev): every line is parsed whole, so a line that
 * is not JSON is found wherever it is, not only on epoch lines. */
#include "nnmpi/nn_metrics.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnmpi/nn_atomic_file.h"

static const char *const series_keys[NN_SERIES_COUNT] = {
    [NN_SERIES_TRAIN_LOSS] = "train_loss",
    [NN_SERIES_VALIDATION_LOSS] = "validation_loss",
    [NN_SERIES_TEST_LOSS] = "test_loss",
    [NN_SERIES_VALIDATION_ACCURACY] = "validation_accuracy",
    [NN_SERIES_TEST_ACCURACY] = "test_accuracy",
    [NN_SERIES_VALIDATION_R2] = "validation_r2",
    [NN_SERIES_TEST_R2] = "test_r2",
};

const char *nn_series_key(NnSeries s)
{
    return s >= 0 && s < NN_SERIES_COUNT ? series_keys[s] : "?";
}

static const char *json_type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "a number";
    case JSON_REAL: return "a number";
    case JSON_TRUE: return "true";
    case JSON_FALSE: return "false";
    case JSON_NULL: return "null";
    }
    return "something else";
}

/* The runs of one file while it is read; rows allocated per run in cap. */
typedef struct {
    NnMetricsRun *runs;
    int64_t *cap;
    int count;
} FileRuns;

static void file_runs_free(FileRuns *f)
{
    for (int i = 0; i < f->count; i++) {
        free(f->runs[i].name);
        free(f->runs[i].values);
    }
    free(f->runs);
    free(f->cap);
    memset(f, 0, sizeof *f);
}

/* The run named id, added when new; NULL when out of memory. */
static NnMetricsRun *find_run(FileRuns *f, const char *id)
{
    for (int i = 0; i < f->count; i++)
        if (strcmp(f->runs[i].id, id) == 0) return &f->runs[i];
    NnMetricsRun *runs = realloc(f->runs, sizeof *runs * (size_t)(f->count + 1));
    if (!runs) return NULL;
    f->runs = runs;
    int64_t *cap = realloc(f->cap, sizeof *cap * (size_t)(f->count + 1));
    if (!cap) return NULL;
    f->cap = cap;
    NnMetricsRun *r = &f->runs[f->count];
    memset(r, 0, sizeof *r);
    snprintf(r->id, sizeof r->id, "%s", id);
    f->cap[f->count++] = 0;
    return r;
}

/* Makes rows 1 .. epoch exist (new rows all NaN). */
static NnStatus grow(FileRuns *f, NnMetricsRun *r, int64_t epoch)
{
    int64_t *cap = &f->cap[r - f->runs];
    if (epoch > *cap) {
        int64_t want = *cap * 2 > epoch ? *cap * 2 : epoch < 16 ? 16 : epoch;
        double *v = realloc(r->values, sizeof *v * NN_SERIES_COUNT * (size_t)want);
        if (!v) return NN_ERR;
        r->values = v;
        *cap = want;
    }
    for (int64_t e = r->epochs; e < epoch; e++)
        for (int k = 0; k < NN_SERIES_COUNT; k++) r->values[e * NN_SERIES_COUNT + k] = NAN;
    if (epoch > r->epochs) r->epochs = epoch;
    return NN_OK;
}

/* One epoch event (the object ev on line `line`) into f. */
static NnStatus read_epoch(FileRuns *f, const json_t *ev, const char *path, long long line,
                           char err[NN_ERR_LEN])
{
    const json_t *run = json_object_get(ev, "run"), *epoch = json_object_get(ev, "epoch");
    if (!json_is_string(run))
        return nn_fail(err, "%s:%lld: an epoch event without a \"run\" id string", path, line);
    if (!json_is_integer(epoch) || json_integer_value(epoch) < 1 ||
        json_integer_value(epoch) > NN_METRICS_MAX_EPOCH)
        return nn_fail(err, "%s:%lld: an epoch event's \"epoch\" is not a whole number from 1 "
                            "to %d",
                       path, line, NN_METRICS_MAX_EPOCH);
    double values[NN_SERIES_COUNT];
    for (int k = 0; k < NN_SERIES_COUNT; k++) {
        const json_t *v = json_object_get(ev, series_keys[k]);
        if (!v || json_is_null(v))
            values[k] = NAN;
        else if (json_is_number(v))
            values[k] = json_number_value(v);
        else
            return nn_fail(err, "%s:%lld: an epoch event's \"%s\" is %s, expected a number or "
                                "null",
                           path, line, series_keys[k], json_type_name(v));
    }
    NnMetricsRun *r = find_run(f, json_string_value(run));
    int64_t e = json_integer_value(epoch);
    if (!r || grow(f, r, e) != NN_OK)
        return nn_fail(err, "%s:%lld: out of memory for epoch %lld", path, line, (long long)e);
    memcpy(&r->values[(e - 1) * NN_SERIES_COUNT], values, sizeof values);
    if (json_object_get(ev, "test_r2") || json_object_get(ev, "validation_r2")) r->regression = 1;
    return NN_OK;
}

/* Names f's runs "label", or "label (id)" each when there are several. */
static NnStatus name_runs(FileRuns *f, const char *label)
{
    for (int i = 0; i < f->count; i++) {
        size_t n = strlen(label) + strlen(f->runs[i].id) + 4;
        f->runs[i].name = malloc(n);
        if (!f->runs[i].name) return NN_ERR;
        if (f->count == 1)
            snprintf(f->runs[i].name, n, "%s", label);
        else
            snprintf(f->runs[i].name, n, "%s (%s)", label, f->runs[i].id);
    }
    return NN_OK;
}

NnStatus nn_metrics_read(const char *path, const char *label, NnMetrics *m, int64_t *skipped_tail,
                         char err[NN_ERR_LEN])
{
    FileRuns f = {0};
    FILE *file = NULL;
    char *line = NULL;
    size_t line_cap = 0;
    long long number = 0;
    NnStatus status = NN_ERR;
    if (skipped_tail) *skipped_tail = 0;
    if (nn_file_check_regular(path, "metrics", err) != NN_OK) goto done;
    file = fopen(path, "r");
    if (!file) {
        nn_fail(err, "%s: cannot open metrics: %s", path, strerror(errno));
        goto done;
    }
    ssize_t n;
    while ((errno = 0, n = getline(&line, &line_cap, file)) >= 0) {
        number++;
        int newline = n > 0 && line[n - 1] == '\n';
        size_t len = (size_t)n - (size_t)newline;
        if (strspn(line, " \t\r") == len) continue; /* a blank line */
        json_error_t jerr;
        json_t *ev = json_loadb(line, len, 0, &jerr);
        if (!ev) {
            if (!newline) { /* a last line cut short */
                if (skipped_tail) *skipped_tail = number;
                break;
            }
            nn_fail(err, "%s:%lld: not JSON: %s (column %d)", path, number, jerr.text,
                    jerr.column);
            goto done;
        }
        NnStatus ok = NN_OK;
        const json_t *event = json_object_get(ev, "event");
        if (!json_is_object(ev))
            ok = nn_fail(err, "%s:%lld: %s, expected a JSON object (an event)", path, number,
                         json_type_name(ev));
        else if (json_is_string(event) && strcmp(json_string_value(event), "epoch") == 0)
            ok = read_epoch(&f, ev, path, number, err);
        json_decref(ev);
        if (ok != NN_OK) goto done;
    }
    if (ferror(file)) {
        nn_fail(err, "%s: cannot read: %s", path, strerror(errno));
        goto done;
    }
    if (f.count == 0) {
        nn_fail(err, "%s: no epoch events (has the run finished an epoch?)", path);
        goto done;
    }
    NnMetricsRun *runs = realloc(m->runs, sizeof *runs * (size_t)(m->count + f.count));
    if (!runs || name_runs(&f, label) != NN_OK) {
        if (runs) m->runs = runs;
        nn_fail(err, "%s: out of memory", path);
        goto done;
    }
    m->runs = runs;
    memcpy(&m->runs[m->count], f.runs, sizeof *runs * (size_t)f.count);
    m->count += f.count;
    free(f.runs); /* the runs' arrays now belong to m */
    free(f.cap);
    memset(&f, 0, sizeof f);
    status = NN_OK;
done:
    file_runs_free(&f);
    free(line);
    if (file) fclose(file);
    return status;
}

void nn_metrics_free(NnMetrics *m)
{
    for (int i = 0; i < m->count; i++) {
        free(m->runs[i].name);
        free(m->runs[i].values);
    }
    free(m->runs);
    memset(m, 0, sizeof *m);
}
