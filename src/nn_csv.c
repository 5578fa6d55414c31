#include "nnmpi/nn_csv.h"

#include <csv.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnmpi/nn_atomic_file.h"
#include "nnmpi/nn_number.h"

/* Bytes read and parsed at a time. */
#define READ_BLOCK ((size_t)1 << 20)

typedef struct {
    const char *path;
    int header; /* 1, 0, or -1: detect */
    const NnCsvCallbacks *cb;
    void *ctx;
    int first_row;     /* the file's first row is still to come */
    int64_t line;      /* the line the parser is on (1-based) */
    int64_t row_line;  /* the line the current row started on */
    int field;         /* fields of the current row so far */
    int64_t rows;      /* data rows the caller took */
    NnCsvFields first; /* the first row's fields, kept until it is known whether it is data */
    NnStatus status;
    char *err;
} Reader;

void nn_csv_fields_free(NnCsvFields *f)
{
    for (int i = 0; i < f->n; i++) free(f->text[i]);
    free(f->text);
    f->text = NULL;
    f->n = 0;
}

static void on_field(void *s, size_t n, void *data)
{
    Reader *r = data;
    if (r->status != NN_OK) return;
    if (r->field == 0) r->row_line = r->line;
    if (r->first_row) { /* kept whole until the row ends */
        char **grown = realloc(r->first.text, sizeof *grown * (size_t)(r->first.n + 1));
        char *text = grown ? malloc((s ? n : 0) + 1) : NULL;
        if (grown) r->first.text = grown;
        if (!text) {
            r->status = nn_fail(r->err, "%s: out of memory for the first row", r->path);
            return;
        }
        if (s && n) memcpy(text, s, n);
        text[s ? n : 0] = '\0';
        r->first.text[r->first.n++] = text;
    } else {
        r->status = r->cb->field(r->ctx, r->row_line, r->field, s, n);
    }
    r->field++;
    /* A quoted field may span lines. */
    for (const char *p = s; p && (p = memchr(p, '\n', n - (size_t)(p - (const char *)s))); p++)
        r->line++;
}

/* The end of the file's first row: a header, or data (then its fields go to the caller
 * now). Returns 1 when it is data. */
static int first_row_end(Reader *r)
{
    int header = r->header;
    if (header < 0) {
        header = 0;
        for (int i = 0; i < r->first.n; i++) {
            double v;
            const char *s = r->first.text[i];
            if (s[0] && nn_parse_double(s, strlen(s), &v) != 0) header = 1;
        }
    }
    r->first_row = 0;
    const int n = r->first.n; /* the callback may take a header */
    if (r->cb->first_row) r->status = r->cb->first_row(r->ctx, r->row_line, &r->first, header);
    if (!header)
        for (int i = 0; i < r->first.n && r->status == NN_OK; i++)
            r->status = r->cb->field(r->ctx, r->row_line, i, r->first.text[i],
                                     strlen(r->first.text[i]));
    r->field = n;
    nn_csv_fields_free(&r->first);
    return !header;
}

static void on_row(int end, void *data)
{
    Reader *r = data;
    /* A row of no fields is a blank line (or the LF of a CRLF). */
    int is_data = r->status == NN_OK && r->field > 0 && (!r->first_row || first_row_end(r));
    if (is_data && r->status == NN_OK) {
        r->status = r->cb->row(r->ctx, r->row_line, r->field);
        if (r->status == NN_OK) r->rows++;
    }
    r->field = 0;
    if (end == '\n') r->line++;
}

NnStatus nn_csv_read(const char *path, char delimiter, int header, const NnCsvCallbacks *cb,
                     void *ctx, char err[NN_ERR_LEN])
{
    if (nn_file_check_regular(path, NULL, err) != NN_OK) return NN_ERR;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return nn_fail(err, "%s: cannot open: %s", path, strerror(errno));
    Reader r = {.path = path, .header = header, .cb = cb, .ctx = ctx, .first_row = 1,
                .line = 1, .status = NN_OK, .err = err};
    struct csv_parser parser;
    /* STRICT: a stray quote is an error; REPALL_NL: every line end reaches on_row, so lines
     * are counted (blank ones are rows of no fields); EMPTY_IS_NULL: an empty field is a
     * missing value; APPEND_NULL: fields end in NUL. */
    if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI | CSV_REPALL_NL | CSV_EMPTY_IS_NULL |
                              CSV_APPEND_NULL) != 0) {
        close(fd);
        return nn_fail(err, "out of memory");
    }
    csv_set_delim(&parser, (unsigned char)delimiter);
    unsigned char *block = malloc(READ_BLOCK);
    if (!block) r.status = nn_fail(err, "out of memory");
    while (r.status == NN_OK) {
        ssize_t n = read(fd, block, READ_BLOCK);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            r.status = nn_fail(err, "%s: cannot read: %s", path, strerror(errno));
            break;
        }
        if (n == 0) {
            if (csv_fini(&parser, on_field, on_row, &r) != 0 && r.status == NN_OK)
                r.status = nn_fail(err, "%s:%lld: a quoted field is not closed", path,
                                   (long long)r.line);
            break;
        }
        if (csv_parse(&parser, block, (size_t)n, on_field, on_row, &r) != (size_t)n &&
            r.status == NN_OK)
            r.status = nn_fail(err, "%s:%lld: malformed quoting (%s)", path, (long long)r.line,
                               csv_strerror(csv_error(&parser)));
    }
    free(block);
    csv_free(&parser);
    close(fd);
    nn_csv_fields_free(&r.first);
    if (r.status == NN_OK && r.rows == 0) r.status = nn_fail(err, "%s: no data rows", path);
    return r.status;
}
