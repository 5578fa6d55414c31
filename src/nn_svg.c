#include "nnmpi/nn_svg.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnmpi/nn_atomic_file.h"

/* Room for n more bytes and the NUL; 0 when memory ran out (s->failed is then set). */
static int reserve(NnSvg *s, size_t n)
{
    if (s->failed) return 0;
    if (s->len + n + 1 <= s->cap) return 1;
    size_t cap = s->cap ? s->cap : 4096;
    while (cap < s->len + n + 1) cap *= 2;
    char *data = realloc(s->data, cap);
    if (!data) {
        s->failed = 1;
        return 0;
    }
    s->data = data;
    s->cap = cap;
    return 1;
}

static void append(NnSvg *s, const char *bytes, size_t n)
{
    if (!reserve(s, n)) return;
    memcpy(s->data + s->len, bytes, n);
    s->len += n;
    s->data[s->len] = '\0';
}

void nn_svg_printf(NnSvg *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0 || !reserve(s, (size_t)n)) return;
    va_start(ap, fmt);
    vsnprintf(s->data + s->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    s->len += (size_t)n;
}

void nn_svg_begin(NnSvg *s, int width, int height)
{
    memset(s, 0, sizeof *s);
    nn_svg_printf(s,
                  "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                  "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"%d\" "
                  "height=\"%d\" viewBox=\"0 0 %d %d\" font-family=\"DejaVu Sans, Helvetica, "
                  "Arial, sans-serif\">\n"
                  "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#ffffff\"/>\n",
                  width, height, width, height, width, height);
}

/* Bytes of the well-formed UTF-8 sequence at p (1 .. 4) that XML allows, or 0. */
static int utf8_length(const unsigned char *p)
{
    uint32_t c;
    int n;
    if (p[0] < 0x80) return 1;
    if ((p[0] & 0xe0) == 0xc0) n = 2, c = p[0] & 0x1f;
    else if ((p[0] & 0xf0) == 0xe0) n = 3, c = p[0] & 0x0f;
    else if ((p[0] & 0xf8) == 0xf0) n = 4, c = p[0] & 0x07;
    else return 0;
    for (int i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80) return 0; /* also stops at the NUL */
        c = c << 6 | (p[i] & 0x3f);
    }
    static const uint32_t least[5] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < least[n] || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) || c == 0xfffe ||
        c == 0xffff)
        return 0;
    return n;
}

void nn_svg_escape(NnSvg *s, const char *text)
{
    const unsigned char *p = (const unsigned char *)text;
    while (*p) {
        const char *entity = NULL;
        switch (*p) {
        case '&': entity = "&amp;"; break;
        case '<': entity = "&lt;"; break;
        case '>': entity = "&gt;"; break;
        case '"': entity = "&quot;"; break;
        case '\'': entity = "&apos;"; break;
        }
        if (entity) {
            append(s, entity, strlen(entity));
            p++;
            continue;
        }
        int n = utf8_length(p);
        if (n == 0 || (n == 1 && *p < 0x20 && *p != '\t' && *p != '\n')) {
            append(s, "?", 1);
            p++;
        } else {
            append(s, (const char *)p, (size_t)n);
            p += n;
        }
    }
}

void nn_svg_text(NnSvg *s, double x, double y, const char *attrs, const char *text)
{
    nn_svg_printf(s, "<text x=\"%.1f\" y=\"%.1f\"%s%s>", x, y, attrs ? " " : "",
                  attrs ? attrs : "");
    nn_svg_escape(s, text);
    nn_svg_printf(s, "</text>\n");
}

NnStatus nn_svg_save(NnSvg *s, const char *path, char err[NN_ERR_LEN])
{
    nn_svg_printf(s, "</svg>\n");
    if (s->failed) return nn_fail(err, "%s: out of memory while drawing it", path);
    return nn_atomic_write(path, s->data, s->len, 0, err);
}

void nn_svg_free(NnSvg *s)
{
    free(s->data);
    memset(s, 0, sizeof *s);
}
