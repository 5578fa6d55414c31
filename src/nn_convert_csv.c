/* CSV to dataset: libcsv splits the bytes into fields and rows (quoting, embedded
 * delimiters and newlines, CRLF); this file turns fields into numbers as they arrive. */
#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnmpi/nn_atomic_file.h"
#include "nnmpi/nn_convert.h"
#include "nnmpi/nn_number.h"

/* Bytes read and parsed at a time. */
#define READ_BLOCK ((size_t)1 << 20)

typedef struct {
    /* The conversion: fixed by the train file's first row. */
    const NnCsvOptions *csv;
    NnWriterOptions wo; /* the caller's, with targets = T */
    const char *out;
    NnWriter *writer;
    int columns;   /* -1 until the first row is read */
    int *slot;     /* (columns) per column: its feature index (>= 0), or -1 - k for target
                      k (0 .. T-1) or, without targets, -1 for the label */
    char **names;  /* the train file's header (columns entries), or NULL */
    float *x;      /* (columns - 1 or columns - T) features of the current row */
    float *t;      /* (T) targets of the current row, or NULL without targets */
    /* The file being read. */
    const char *path;
    NnSplit from;
    int first_row; /* the file's first row is still to come */
    int64_t line;     /* the line the parser is on (1-based) */
    int64_t row_line; /* the line the current row started on */
    int64_t rows;     /* data rows of this file */
    /* The current row. */
    int field;
    int64_t label;
    char **first;  /* the first row's fields, kept until it is known whether it is data */
    int n_first;
    NnStatus status;
    char *err;
} Csv;

/* The column's name for messages: "column 3 (\"x2\")" or "column 3". */
static void column_name(const Csv *c, int col, char *out, size_t size)
{
    if (c->names && col < c->columns)
        snprintf(out, size, "column %d (\"%.64s\")", col + 1, c->names[col]);
    else
        snprintf(out, size, "column %d", col + 1);
}

/* Fails with "FILE:LINE: column C: what". */
static void field_fail(Csv *c, int col, const char *what, const char *text, size_t n)
{
    char name[128];
    column_name(c, col, name, sizeof name);
    if (text)
        nn_fail(c->err, "%s:%lld: %s: %s '%.*s'", c->path, (long long)c->row_line, name, what,
                n > 64 ? 64 : (int)n, text);
    else
        nn_fail(c->err, "%s:%lld: %s: %s", c->path, (long long)c->row_line, name, what);
    c->status = NN_ERR;
}

/* One field of a data row. */
static void data_field(Csv *c, const char *s, size_t n)
{
    int col = c->field;
    if (col >= c->columns) return; /* counted; the row end reports it */
    if (!s || n == 0) {
        field_fail(c, col, "missing value", NULL, 0);
    } else if (c->slot[col] >= 0) {
        if (nn_parse_float(s, n, &c->x[c->slot[col]]) != 0)
            field_fail(c, col, "not a finite number:", s, n);
    } else if (c->t) {
        if (nn_parse_float(s, n, &c->t[-1 - c->slot[col]]) != 0)
            field_fail(c, col, "target is not a finite number:", s, n);
    } else if (nn_parse_label(s, n, &c->label) != 0) {
        field_fail(c, col, "label is not an integer:", s, n);
    } else {
        char why[NN_ERR_LEN];
        if (nn_writer_label(c->writer, c->label, why) != NN_OK) field_fail(c, col, why, NULL, 0);
    }
}

static char *copy_text(const char *s, size_t n)
{
    char *t = malloc(n + 1);
    if (t) {
        if (n) memcpy(t, s, n);
        t[n] = '\0';
    }
    return t;
}

static void free_first(Csv *c)
{
    for (int i = 0; i < c->n_first; i++) free(c->first[i]);
    free(c->first);
    c->first = NULL;
    c->n_first = 0;
}

static void on_field(void *s, size_t n, void *data)
{
    Csv *c = data;
    if (c->status != NN_OK) return;
    if (c->field == 0) c->row_line = c->line;
    if (c->first_row) { /* kept whole until the row ends */
        char **grown = realloc(c->first, sizeof *grown * (size_t)(c->n_first + 1));
        char *text = grown ? copy_text(s ? s : "", s ? n : 0) : NULL;
        if (grown) c->first = grown;
        if (!text) {
            c->status = nn_fail(c->err, "%s: out of memory for the first row", c->path);
            return;
        }
        c->first[c->n_first++] = text;
    } else {
        data_field(c, s, n);
    }
    c->field++;
    /* A quoted field may span lines. */
    for (const char *p = s; p && (p = memchr(p, '\n', n - (size_t)(p - (const char *)s)));
         p++)
        c->line++;
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

/* The end of the file's first row: header or data? For the train file it also fixes the
 * columns and opens the writer. Returns 1 when the row is data (its fields then parsed). */
static int first_row_end(Csv *c)
{
    int header = c->csv->header;
    if (header < 0) {
        header = 0;
        for (int i = 0; i < c->n_first; i++) {
            double v;
            if (c->first[i][0] && nn_parse_double(c->first[i], strlen(c->first[i]), &v) != 0)
                header = 1;
        }
    }
    if (c->columns < 0) {
        c->columns = c->n_first;
        if (c->columns < 2) {
            c->status = nn_fail(c->err, "%s:%lld: %d column: need a %s and at least one "
                                        "feature (is --delimiter right?)",
                                c->path, (long long)c->row_line, c->columns,
                                c->csv->targets ? "target" : "label");
            return 0;
        }
        if (assign_columns(c, header ? c->first : NULL) != NN_OK) {
            c->status = NN_ERR;
            return 0;
        }
        if (header) { /* kept for messages */
            c->names = c->first;
            c->first = NULL;
            c->n_first = 0;
        }
        int64_t T = c->wo.targets, features = c->columns - (T ? T : 1);
        c->x = malloc(sizeof *c->x * (size_t)features);
        if (T) c->t = malloc(sizeof *c->t * (size_t)T);
        if (!c->x || (T && !c->t)) {
            c->status = nn_fail(c->err, "out of memory");
            return 0;
        }
        if (nn_writer_open(&c->writer, c->out, features, &c->wo, c->err) != NN_OK) {
            c->status = NN_ERR;
            return 0;
        }
    } else if (c->n_first != c->columns) {
        c->status = nn_fail(c->err, "%s:%lld: %d columns, expected %d as in the training file",
                            c->path, (long long)c->row_line, c->n_first, c->columns);
        return 0;
    }
    c->first_row = 0;
    if (header) {
        free_first(c);
        return 0;
    }
    /* The first row is data: replay its fields. */
    c->field = 0;
    for (int i = 0; i < c->n_first && c->status == NN_OK; i++, c->field++)
        data_field(c, c->first[i], strlen(c->first[i]));
    c->field = c->n_first;
    free_first(c);
    return 1;
}

static void on_row(int end, void *data)
{
    Csv *c = data;
    /* A row of no fields is a blank line (or the LF of a CRLF). */
    int is_data = c->status == NN_OK && c->field > 0 && (!c->first_row || first_row_end(c));
    if (is_data && c->status == NN_OK) {
        if (c->field != c->columns) {
            c->status = nn_fail(c->err, "%s:%lld: %d columns, expected %d", c->path,
                                (long long)c->row_line, c->field, c->columns);
        } else if ((c->t ? nn_writer_add_targets(c->writer, c->from, c->x, c->t, c->err)
                         : nn_writer_add(c->writer, c->from, c->x, c->label, c->err)) != NN_OK) {
            c->status = NN_ERR;
        } else {
            c->rows++;
        }
    }
    c->field = 0;
    if (end == '\n') c->line++;
}

/* Streams one file through the parser. */
static NnStatus read_file(Csv *c, const char *path, NnSplit from)
{
    if (nn_file_check_regular(path, NULL, c->err) != NN_OK) return NN_ERR;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nn_fail(c->err, "%s: cannot open: %s", path, strerror(errno));
    c->path = path;
    c->from = from;
    c->first_row = 1;
    c->line = 1;
    c->rows = 0;
    c->field = 0;
    struct csv_parser parser;
    /* STRICT: a stray quote is an error; REPALL_NL: every line end reaches on_row, so lines
     * are counted (blank ones are rows of no fields); EMPTY_IS_NULL: an empty field is a
     * missing value; APPEND_NULL: fields end in NUL. */
    if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL | CSV_EMPTY_IS_NULL |
                              CSV_APPEND_NULL) != 0) {
        close(fd);
        return nn_fail(c->err, "out of memory");
    }
    csv_set_delim(&parser, (unsigned char)c->csv->delimiter);
    unsigned char *block = malloc(READ_BLOCK);
    if (!block) c->status = nn_fail(c->err, "out of memory");
    while (c->status == NN_OK) {
        ssize_t n = read(fd, block, READ_BLOCK);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            c->status = nn_fail(c->err, "%s: cannot read: %s", path, strerror(errno));
            break;
        }
        if (n == 0) {
            if (csv_fini(&parser, on_field, on_row, c) != 0 && c->status == NN_OK)
                c->status = nn_fail(c->err, "%s:%lld: a quoted field is not closed", path,
                                    (long long)c->line);
            break;
        }
        if (csv_parse(&parser, block, (size_t)n, on_field, on_row, c) != (size_t)n &&
            c->status == NN_OK)
            c->status = nn_fail(c->err, "%s:%lld: malformed quoting (%s)", path,
                                (long long)c->line, csv_strerror(csv_error(&parser)));
    }
    free(block);
    csv_free(&parser);
    close(fd);
    free_first(c);
    if (c->status == NN_OK && c->rows == 0)
        c->status = nn_fail(c->err, "%s: no data rows", path);
    return c->status;
}

NnStatus nn_convert_csv(const char *train, const char *test, const char *out,
                        const NnCsvOptions *csv, const NnWriterOptions *wo, char err[NN_ERR_LEN])
{
    Csv c = {.csv = csv, .wo = *wo, .out = out, .columns = -1, .status = NN_OK, .err = err};
    NnStatus status = read_file(&c, train, NN_SPLIT_TRAIN);
    if (status == NN_OK && test) status = read_file(&c, test, NN_SPLIT_TEST);
    if (c.writer) {
        if (status == NN_OK)
            status = nn_writer_finish(c.writer, err);
        else
            nn_writer_abort(c.writer);
    }
    if (c.names)
        for (int i = 0; i < c.columns; i++) free(c.names[i]);
    free(c.names);
    free(c.slot);
    free(c.x);
    free(c.t);
    return status;
}
