/* CSV to dataset: nn_csv streams the rows of fields; this file gives the columns their
 * roles and turns fields into numbers as they arrive. */
#include <stdlib.h>
#include <string.h>

#include "nnmpi/nn_convert.h"
#include "nnmpi/nn_csv.h"
#include "nnmpi/nn_number.h"

typedef struct {
    /* The conversion: fixed by the train file's first row. */
    const NnCsvOptions *csv;
    NnWriterOptions wo; /* the caller's, with targets = T */
    const char *out;
    NnWriter *writer;
    int columns;   /* -1 until the first row is read */
    int *slot;     /* (columns) per column: its feature index (>= 0), or -1 - k for target
                      k (0 .. T-1) or, without targets, -1 for the label */
    NnCsvFields names; /* the train file's header (columns entries), or none */
    float *x;      /* (columns - 1 or columns - T) features of the current row */
    float *t;      /* (T) targets of the current row, or NULL without targets */
    /* The file being read. */
    const char *path;
    NnSplit from;
    int64_t label; /* the current row's */
    char *err;
} Csv;

/* The column's name for messages: "column 3 (\"x2\")" or "column 3". */
static void column_name(const Csv *c, int col, char *out, size_t size)
{
    if (c->names.text && col < c->columns)
        snprintf(out, size, "column %d (\"%.64s\")", col + 1, c->names.text[col]);
    else
        snprintf(out, size, "column %d", col + 1);
}

/* Fails with "FILE:LINE: column C: what". */
static NnStatus field_fail(Csv *c, int64_t line, int col, const char *what, const char *text,
                           size_t n)
{
    char name[128];
    column_name(c, col, name, sizeof name);
    if (text)
        return nn_fail(c->err, "%s:%lld: %s: %s '%.*s'", c->path, (long long)line, name, what,
                       n > 64 ? 64 : (int)n, text);
    return nn_fail(c->err, "%s:%lld: %s: %s", c->path, (long long)line, name, what);
}

/* One field of a data row (NnCsvCallbacks.field). */
static NnStatus data_field(void *ctx, int64_t line, int col, const char *s, size_t n)
{
    Csv *c = ctx;
    if (col >= c->columns) return NN_OK; /* counted; the row end reports it */
    if (!s || n == 0) return field_fail(c, line, col, "missing value", NULL, 0);
    if (c->slot[col] >= 0) {
        if (nn_parse_float(s, n, &c->x[c->slot[col]]) != 0)
            return field_fail(c, line, col, "not a finite number:", s, n);
    } else if (c->t) {
        if (nn_parse_float(s, n, &c->t[-1 - c->slot[col]]) != 0)
            return field_fail(c, line, col, "target is not a finite number:", s, n);
    } else if (nn_parse_label(s, n, &c->label) != 0) {
        return field_fail(c, line, col, "label is not an integer:", s, n);
    } else {
        char why[NN_ERR_LEN];
        if (nn_writer_label(c->writer, c->label, why) != NN_OK)
            return field_fail(c, line, col, why, NULL, 0);
    }
    return NN_OK;
}

/* The 0-based column that `want` names for option (--label, --target): a 1-based index,
 * or a name in the header (NULL: none). */
static NnStatus find_column(Csv *c, char **header, const char *option, const char *want,
                            int *col)
{
    char *end = NULL;
    long index = strtol(want, &end, 10);
    if (*want && *end == '\0') {
        if (index < 1 || index > c->columns)
            return nn_fail(c->err, "%s: %s %s: the file has columns 1..%d", c->path, option,
                           want, c->columns);
        *col = (int)index - 1;
        return NN_OK;
    }
    if (!header)
        return nn_fail(c->err, "%s: %s %s: a column name needs a header row (--header)",
                       c->path, option, want);
    for (int i = 0; i < c->columns; i++)
        if (strcmp(header[i], want) == 0) {
            *col = i;
            return NN_OK;
        }
    return nn_fail(c->err, "%s: %s %s: no such column in the header", c->path, option, want);
}

/* Marks column col as target k (slot -1 - k) of the --target list. */
static NnStatus mark_target(Csv *c, int col, int k, const char *list)
{
    if (c->slot[col] < 0)
        return nn_fail(c->err, "%s: --target %s: column %d is named twice", c->path, list,
                       col + 1);
    c->slot[col] = -1 - k;
    return NN_OK;
}

/* Assigns every column its role (c->slot) from --label or --target, once the first row is
 * known; sets T (c->wo.targets). */
static NnStatus assign_columns(Csv *c, char **header)
{
    c->slot = calloc((size_t)c->columns, sizeof *c->slot); /* 0: a feature, numbered below */
    if (!c->slot) return nn_fail(c->err, "out of memory");
    const char *list = c->csv->targets;
    int col = 0, T = 0;
    if (!list) {
        if (!c->csv->label)
            col = c->columns - 1;
        else if (find_column(c, header, "--label", c->csv->label, &col) != NN_OK)
            return NN_ERR;
        c->slot[col] = -1;
    } else if (header && find_column(c, header, "--target", list, &col) == NN_OK) {
        c->slot[col] = -1; /* a name holding a comma, matched whole */
        T = 1;
    } else {
        char *copy = malloc(strlen(list) + 1), *item = copy;
        if (!copy) return nn_fail(c->err, "out of memory");
        strcpy(copy, list);
        NnStatus status = NN_OK;
        for (char *next; status == NN_OK && item; item = next) {
            next = strchr(item, ',');
            if (next) *next++ = '\0';
            if (!*item)
                status = nn_fail(c->err, "%s: --target %s: an empty column in the list", c->path,
                                 list);
            else if (find_column(c, header, "--target", item, &col) == NN_OK)
                status = mark_target(c, col, T++, list);
            else
                status = NN_ERR;
        }
        free(copy);
        if (status != NN_OK) return NN_ERR;
    }
    if (c->columns - (T ? T : 1) < 1)
        return nn_fail(c->err, "%s: --target %s: no column is left for the features", c->path,
                       list);
    for (int i = 0, f = 0; i < c->columns; i++)
        if (c->slot[i] >= 0) c->slot[i] = f++;
    c->wo.targets = T;
    return NN_OK;
}

/* The file's first row (NnCsvCallbacks.first_row). For the train file it fixes the columns
 * and opens the writer; a test file must have as many columns. */
static NnStatus first_row(void *ctx, int64_t line, NnCsvFields *first, int header)
{
    Csv *c = ctx;
    if (c->columns < 0) {
        c->columns = first->n;
        if (c->columns < 2)
            return nn_fail(c->err, "%s:%lld: %d column: need a %s and at least one feature "
                                   "(is --delimiter right?)",
                           c->path, (long long)line, c->columns,
                           c->csv->targets ? "target" : "label");
        if (assign_columns(c, header ? first->text : NULL) != NN_OK) return NN_ERR;
        if (header) { /* kept for messages */
            c->names = *first;
            *first = (NnCsvFields){NULL, 0};
        }
        int64_t T = c->wo.targets, features = c->columns - (T ? T : 1);
        c->x = malloc(sizeof *c->x * (size_t)features);
        if (T) c->t = malloc(sizeof *c->t * (size_t)T);
        if (!c->x || (T && !c->t)) return nn_fail(c->err, "out of memory");
        return nn_writer_open(&c->writer, c->out, features, &c->wo, c->err);
    }
    if (first->n != c->columns)
        return nn_fail(c->err, "%s:%lld: %d columns, expected %d as in the training file",
                       c->path, (long long)line, first->n, c->columns);
    return NN_OK;
}

/* The end of a data row (NnCsvCallbacks.row): the row to the writer. */
static NnStatus row_end(void *ctx, int64_t line, int fields)
{
    Csv *c = ctx;
    if (fields != c->columns)
        return nn_fail(c->err, "%s:%lld: %d columns, expected %d", c->path, (long long)line,
                       fields, c->columns);
    return c->t ? nn_writer_add_targets(c->writer, c->from, c->x, c->t, c->err)
                : nn_writer_add(c->writer, c->from, c->x, c->label, c->err);
}

/* Streams one file through the reader. */
static NnStatus read_file(Csv *c, const char *path, NnSplit from)
{
    static const NnCsvCallbacks callbacks = {first_row, data_field, row_end};
    c->path = path;
    c->from = from;
    return nn_csv_read(path, c->csv->delimiter, c->csv->header, &callbacks, c, c->err);
}

NnStatus nn_convert_csv(const char *train, const char *test, const char *out,
                        const NnCsvOptions *csv, const NnWriterOptions *wo, char err[NN_ERR_LEN])
{
    Csv c = {.csv = csv, .wo = *wo, .out = out, .columns = -1, .err = err};
    NnStatus status = read_file(&c, train, NN_SPLIT_TRAIN);
    if (status == NN_OK && test) status = read_file(&c, test, NN_SPLIT_TEST);
    if (c.writer) {
        if (status == NN_OK)
            status = nn_writer_finish(c.writer, err);
        else
            nn_writer_abort(c.writer);
    }
    nn_csv_fields_free(&c.names);
    free(c.slot);
    free(c.x);
    free(c.t);
    return status;
}
