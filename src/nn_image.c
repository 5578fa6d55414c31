/* PNG through libpng's classic API (its transformations do the gray conversions); PGM
 * parsed here. Debian's libnetpbm-dev would read PGM, but it reports every problem (a bad
 * header, a short raster) by printing its own message and calling exit(), or by longjmp
 * through pm_setjmpbuf with the message already on stderr; neither gives an error value
 * with the file named, and the format it would parse for us is four numbers and a raster. */
#include "nnmpi/nn_image.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnmpi/nn_atomic_file.h"

/* "PATH: 27x28 pixels (756), expected 28x28 = 784 (the model's inputs)" */
static NnStatus wrong_size(const char *path, int64_t width, int64_t height, int64_t expected,
                           char err[NN_ERR_LEN])
{
    int64_t side = (int64_t)llround(sqrt((double)expected));
    char want[64];
    if (side * side == expected)
        snprintf(want, sizeof want, "%lldx%lld = %lld", (long long)side, (long long)side,
                 (long long)expected);
    else
        snprintf(want, sizeof want, "%lld", (long long)expected);
    return nn_fail(err, "%s: %lldx%lld pixels (%lld), expected %s (the model's inputs); "
                        "images are not resized",
                   path, (long long)width, (long long)height, (long long)(width * height), want);
}

/* ---- PNG ---- */

typedef struct {
    FILE *file;
    char message[256]; /* libpng's last error */
} PngSource;

static void png_on_error(png_structp png, png_const_charp message)
{
    PngSource *src = png_get_error_ptr(png);
    snprintf(src->message, sizeof src->message, "%s", message);
    png_longjmp(png, 1);
}

static void png_on_warning(png_structp png, png_const_charp message)
{
    (void)png; /* warnings (an unknown chunk, a bad iCCP profile) do not change the pixels */
    (void)message;
}

/* libpng's read callback: a short read is named for what it is. */
static void png_on_read(png_structp png, png_bytep data, size_t n)
{
    PngSource *src = png_get_io_ptr(png);
    if (fread(data, 1, n, src->file) == n) return;
    png_error(png, ferror(src->file) ? strerror(errno) : "truncated: the file ends early");
}

static NnStatus read_png(FILE *file, const char *path, int64_t expected, uint8_t *pixels,
                         char err[NN_ERR_LEN])
{
    PngSource src = {.file = file};
    png_structp png =
        png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    /* Written after setjmp and read after a longjmp: volatile. */
    png_bytep *volatile rows = NULL;
    NnStatus status = NN_ERR; /* NN_OK only after the last libpng call */
    if (!png || !info) {
        nn_fail(err, "%s: out of memory for libpng", path);
        goto done;
    }
    if (setjmp(png_jmpbuf(png))) { /* png_on_error */
        nn_fail(err, "%s: not a readable PNG image: %s", path, src.message);
        goto done;
    }
    png_set_read_fn(png, &src, png_on_read);
    png_read_info(png, info);
    png_uint_32 width = png_get_image_width(png, info), height = png_get_image_height(png, info);
    if ((int64_t)width * height != expected) {
        wrong_size(path, width, height, expected, err);
        goto done;
    }
    int color = png_get_color_type(png, info), depth = png_get_bit_depth(png, info);
    if (color == PNG_COLOR_TYPE_PALETTE) png_set_palette_to_rgb(png);
    if (color == PNG_COLOR_TYPE_GRAY && depth < 8) png_set_expand_gray_1_2_4_to_8(png);
    if (depth == 16) png_set_scale_16(png);
    if (color & PNG_COLOR_MASK_ALPHA) png_set_strip_alpha(png);
    if (color == PNG_COLOR_TYPE_PALETTE || (color & PNG_COLOR_MASK_COLOR))
        png_set_rgb_to_gray(png, PNG_ERROR_ACTION_NONE, PNG_RGB_TO_GRAY_DEFAULT,
                            PNG_RGB_TO_GRAY_DEFAULT);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    if (png_get_channels(png, info) != 1 || png_get_bit_depth(png, info) != 8 ||
        png_get_rowbytes(png, info) != width) {
        nn_fail(err, "%s: libpng did not make 8-bit gray of this PNG (color type %d, depth %d)",
                path, color, depth);
        goto done;
    }
    rows = malloc(sizeof *rows * height);
    if (!rows) {
        nn_fail(err, "%s: out of memory", path);
        goto done;
    }
    for (png_uint_32 y = 0; y < height; y++) rows[y] = pixels + (size_t)y * width;
    png_read_image(png, rows);
    png_read_end(png, NULL); /* the chunks after the pixels: checks their CRCs and IEND */
    status = NN_OK;
done:
    free(rows);
    png_destroy_read_struct(png ? &png : NULL, info ? &info : NULL, NULL);
    return status;
}

/* ---- PGM ---- */

/* Skips whitespace and '#' comments (to the end of their line). */
static void pgm_skip(FILE *f)
{
    int c;
    while ((c = getc(f)) != EOF) {
        if (c == '#') {
            while ((c = getc(f)) != EOF && c != '\n' && c != '\r') {}
        } else if (c != ' ' && c != '\t' && c != '\n' && c != '\r' && c != '\v' && c != '\f') {
            ungetc(c, f);
            return;
        }
    }
}

/* A decimal number after optional whitespace and comments, at most max; -1 when there is
 * none there, -2 when it is larger. The character after it is left in the stream. */
static int64_t pgm_number(FILE *f, int64_t max)
{
    pgm_skip(f);
    int64_t v = 0;
    int c, digits = 0;
    while ((c = getc(f)) >= '0' && c <= '9') {
        if (v <= max) v = v * 10 + (c - '0');
        digits++;
    }
    if (c != EOF) ungetc(c, f);
    return digits == 0 ? -1 : v > max ? -2 : v;
}

static NnStatus read_pgm(FILE *f, const char *path, int64_t expected, uint8_t *pixels,
                         char err[NN_ERR_LEN])
{
    char magic[2];
    if (fread(magic, 1, 2, f) != 2 || magic[0] != 'P' || (magic[1] != '5' && magic[1] != '2'))
        return nn_fail(err, "%s: not a PGM image (no P5 or P2 magic)", path);
    int plain = magic[1] == '2';
    const char *names[3] = {"width", "height", "maxval"};
    int64_t v[3];
    for (int i = 0; i < 3; i++) {
        v[i] = pgm_number(f, i < 2 ? INT64_C(1) << 30 : 65535);
        if (v[i] < 1)
            return nn_fail(err, "%s: bad PGM header: %s is %s", path, names[i],
                           v[i] == -2 ? "too large" : v[i] == 0 ? "0" : "missing");
    }
    int c = getc(f); /* exactly one whitespace character ends the header */
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
        return nn_fail(err, "%s: bad PGM header: no whitespace after maxval", path);
    if (v[0] * v[1] != expected) return wrong_size(path, v[0], v[1], expected, err);
    int64_t maxval = v[2];
    int wide = maxval > 255;
    for (int64_t i = 0; i < expected; i++) {
        int64_t value;
        if (plain) {
            value = pgm_number(f, maxval);
        } else {
            unsigned char b[2];
            value = fread(b, 1, (size_t)(wide + 1), f) == (size_t)(wide + 1)
                        ? (wide ? b[0] << 8 | b[1] : b[0])
                        : -1;
        }
        if (value == -1)
            return ferror(f) ? nn_fail(err, "%s: cannot read: %s", path, strerror(errno))
                   : feof(f) ? nn_fail(err, "%s: truncated: %lld of %lld pixels", path,
                                       (long long)i, (long long)expected)
                             : nn_fail(err, "%s: pixel %lld is not a number", path, (long long)i);
        if (value < 0 || value > maxval)
            return nn_fail(err, "%s: pixel %lld is larger than maxval %lld", path, (long long)i,
                           (long long)maxval);
        pixels[i] = maxval == 255 ? (uint8_t)value
                                  : (uint8_t)((value * 255 + maxval / 2) / maxval);
    }
    if (plain) pgm_skip(f);
    if (getc(f) != EOF)
        return nn_fail(err, "%s: extra data after the %lldx%lld image (one image per file)", path,
                       (long long)v[0], (long long)v[1]);
    return NN_OK;
}

NnStatus nn_image_read(const char *path, NnImageKind kind, int64_t expected, uint8_t *pixels,
                       char err[NN_ERR_LEN])
{
    if (nn_file_check_regular(path, NULL, err) != NN_OK) return NN_ERR;
    FILE *f = fopen(path, "rb");
    if (!f) return nn_fail(err, "%s: cannot open: %s", path, strerror(errno));
    NnStatus status = kind == NN_IMAGE_PNG ? read_png(f, path, expected, pixels, err)
                                           : read_pgm(f, path, expected, pixels, err);
    fclose(f);
    return status;
}

/* ---- writing PNG ---- */

typedef struct {
    uint8_t *data;
    size_t len, cap;
} PngSink;

static void png_on_write(png_structp png, png_bytep data, size_t n)
{
    PngSink *sink = png_get_io_ptr(png);
    if (sink->len + n > sink->cap) {
        size_t cap = sink->cap ? sink->cap : 65536;
        while (cap < sink->len + n) cap *= 2;
        uint8_t *grown = realloc(sink->data, cap);
        if (!grown) png_error(png, "out of memory");
        sink->data = grown;
        sink->cap = cap;
    }
    memcpy(sink->data + sink->len, data, n);
    sink->len += n;
}

static void png_on_flush(png_structp png)
{
    (void)png;
}

NnStatus nn_image_write_png(const char *path, int width, int height, const uint8_t *rgb,
                            const char *text, char err[NN_ERR_LEN])
{
    PngSource errors = {0}; /* only its message is used */
    PngSink sink = {0};
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, &errors, png_on_error, png_on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    png_bytep *volatile rows = NULL;
    NnStatus status = NN_ERR;
    if (!png || !info) {
        nn_fail(err, "%s: out of memory for libpng", path);
        goto done;
    }
    rows = malloc(sizeof *rows * (size_t)height);
    if (!rows) {
        nn_fail(err, "%s: out of memory", path);
        goto done;
    }
    if (setjmp(png_jmpbuf(png))) {
        nn_fail(err, "%s: libpng cannot encode the image: %s", path, errors.message);
        goto done;
    }
    for (int y = 0; y < height; y++) rows[y] = (png_bytep)rgb + (size_t)y * (size_t)width * 3;
    png_set_write_fn(png, &sink, png_on_write, png_on_flush);
    png_set_IHDR(png, info, (png_uint_32)width, (png_uint_32)height, 8, PNG_COLOR_TYPE_RGB,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (text) {
        png_text chunk = {.compression = PNG_TEXT_COMPRESSION_NONE,
                          .key = "Description",
                          .text = (png_charp)text,
                          .text_length = strlen(text)};
        png_set_text(png, info, &chunk, 1);
    }
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, info);
    status = NN_OK;
done:
    png_destroy_write_struct(png ? &png : NULL, info ? &info : NULL);
    free(rows);
    if (status == NN_OK) status = nn_atomic_write(path, sink.data, sink.len, 0, err);
    free(sink.data);
    return status;
}
