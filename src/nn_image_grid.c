/* The font is drawn here from a table of 5x7 glyphs: captions need a dozen characters, and
 * a text renderer (cairo, FreeType) would bring fonts and a dependency for them. */
#include "nnmpi/nn_image_grid.h"

#include <stdlib.h>
#include <string.h>

#include "nnmpi/nn_image.h"

typedef struct {
    char c;
    const char *rows[7]; /* '#' on, '.' off */
} Glyph;

static const Glyph font[] = {
    {'0', {".###.", "#...#", "#..##", "#.#.#", "##..#", "#...#", ".###."}},
    {'1', {"..#..", ".##..", "..#..", "..#..", "..#..", "..#..", ".###."}},
    {'2', {".###.", "#...#", "....#", "...#.", "..#..", ".#...", "#####"}},
    {'3', {"#####", "...#.", "..#..", "...#.", "....#", "#...#", ".###."}},
    {'4', {"...#.", "..##.", ".#.#.", "#..#.", "#####", "...#.", "...#."}},
    {'5', {"#####", "#....", "####.", "....#", "....#", "#...#", ".###."}},
    {'6', {"..##.", ".#...", "#....", "####.", "#...#", "#...#", ".###."}},
    {'7', {"#####", "....#", "...#.", "..#..", ".#...", ".#...", ".#..."}},
    {'8', {".###.", "#...#", "#...#", ".###.", "#...#", "#...#", ".###."}},
    {'9', {".###.", "#...#", "#...#", ".####", "....#", "...#.", ".##.."}},
    {'a', {".....", ".....", ".###.", "....#", ".####", "#...#", ".####"}},
    {'b', {"#....", "#....", "#.##.", "##..#", "#...#", "#...#", "####."}},
    {'c', {".....", ".....", ".###.", "#....", "#....", "#...#", ".###."}},
    {'d', {"....#", "....#", ".##.#", "#..##", "#...#", "#...#", ".####"}},
    {'e', {".....", ".....", ".###.", "#...#", "#####", "#....", ".###."}},
    {'f', {"..##.", ".#..#", ".#...", "###..", ".#...", ".#...", ".#..."}},
    {'g', {".....", ".####", "#...#", "#...#", ".####", "....#", ".###."}},
    {'h', {"#....", "#....", "#.##.", "##..#", "#...#", "#...#", "#...#"}},
    {'i', {"..#..", ".....", ".##..", "..#..", "..#..", "..#..", ".###."}},
    {'j', {"...#.", ".....", "..##.", "...#.", "...#.", "#..#.", ".##.."}},
    {'k', {"#....", "#....", "#..#.", "#.#..", "##...", "#.#..", "#..#."}},
    {'l', {".##..", "..#..", "..#..", "..#..", "..#..", "..#..", ".###."}},
    {'m', {".....", ".....", "##.#.", "#.#.#", "#.#.#", "#...#", "#...#"}},
    {'n', {".....", ".....", "#.##.", "##..#", "#...#", "#...#", "#...#"}},
    {'o', {".....", ".....", ".###.", "#...#", "#...#", "#...#", ".###."}},
    {'p', {".....", ".....", "####.", "#...#", "#...#", "####.", "#...."}},
    {'q', {".....", ".....", ".####", "#...#", "#...#", ".####", "....#"}},
    {'r', {".....", ".....", "#.##.", "##..#", "#....", "#....", "#...."}},
    {'s', {".....", ".....", ".###.", "#....", ".###.", "....#", "####."}},
    {'t', {".#...", ".#...", "###..", ".#...", ".#...", ".#..#", "..##."}},
    {'u', {".....", ".....", "#...#", "#...#", "#...#", "#..##", ".##.#"}},
    {'v', {".....", ".....", "#...#", "#...#", "#...#", ".#.#.", "..#.."}},
    {'w', {".....", ".....", "#...#", "#...#", "#.#.#", "#.#.#", ".#.#."}},
    {'x', {".....", ".....", "#...#", ".#.#.", "..#..", ".#.#.", "#...#"}},
    {'y', {".....", ".....", "#...#", "#...#", ".####", "....#", ".###."}},
    {'z', {".....", ".....", "#####", "...#.", "..#..", ".#...", "#####"}},
    {' ', {".....", ".....", ".....", ".....", ".....", ".....", "....."}},
    {'-', {".....", ".....", ".....", "#####", ".....", ".....", "....."}},
    {'.', {".....", ".....", ".....", ".....", ".....", ".##..", ".##.."}},
    {':', {".....", ".##..", ".##..", ".....", ".##..", ".##..", "....."}},
    {'#', {".#.#.", ".#.#.", "#####", ".#.#.", "#####", ".#.#.", ".#.#."}},
    {'?', {".###.", "#...#", "....#", "...#.", "..#..", ".....", "..#.."}},
};
#define N_GLYPHS (int)(sizeof font / sizeof font[0])

enum { GLYPH_W = 5, GLYPH_H = 7, ADVANCE = 6, LINE_H = 9 };

static const Glyph *glyph(char c)
{
    for (int i = 0; i < N_GLYPHS; i++)
        if (font[i].c == c) return &font[i];
    return &font[N_GLYPHS - 1]; /* '?' */
}

static const uint8_t background[3] = {48, 48, 48};
static const uint8_t caption_colours[2][3] = {{130, 230, 130}, {255, 130, 120}};

NnGridLayout nn_grid_layout(const NnGridTile *tiles, int count, int rows, int cols)
{
    NnGridLayout g;
    int side = rows > cols ? rows : cols;
    g.upscale = side <= 32 ? 3 : side <= 64 ? 2 : 1;
    size_t longest = 0;
    for (int i = 0; i < count; i++)
        for (int k = 0; k < 2; k++) {
            size_t n = strlen(tiles[i].caption[k]);
            if (n > longest) longest = n;
        }
    int image_w = cols * g.upscale;
    g.font_scale = (int)longest * ADVANCE * 2 <= image_w ? 2 : 1;
    int text_w = (int)longest * ADVANCE * g.font_scale;
    g.cell_width = image_w > text_w ? image_w : text_w;
    g.cell_height = rows * g.upscale + 2 + 2 * LINE_H * g.font_scale;
    g.columns = count < NN_GRID_COLUMNS ? count : NN_GRID_COLUMNS;
    g.grid_rows = (count + g.columns - 1) / g.columns;
    g.width = NN_GRID_PAD + g.columns * (g.cell_width + NN_GRID_PAD);
    g.height = NN_GRID_PAD + g.grid_rows * (g.cell_height + NN_GRID_PAD);
    return g;
}

/* Writes text at (x, y) (its top left) in colour, each font pixel a scale x scale block. */
static void draw_text(uint8_t *rgb, int width, int x, int y, const char *text, int scale,
                      const uint8_t colour[3])
{
    for (; *text; text++, x += ADVANCE * scale) {
        const Glyph *g = glyph(*text);
        for (int r = 0; r < GLYPH_H * scale; r++)
            for (int c = 0; c < GLYPH_W * scale; c++)
                if (g->rows[r / scale][c / scale] == '#')
                    memcpy(rgb + ((size_t)(y + r) * width + (size_t)(x + c)) * 3, colour, 3);
    }
}

NnStatus nn_grid_write_png(const char *path, const NnGridTile *tiles, int count, int rows,
                           int cols, const char *text, char err[NN_ERR_LEN])
{
    NnGridLayout g = nn_grid_layout(tiles, count, rows, cols);
    uint8_t *rgb = malloc((size_t)g.width * (size_t)g.height * 3);
    if (!rgb) return nn_fail(err, "%s: out of memory for a %dx%d picture", path, g.width, g.height);
    for (size_t p = 0; p < (size_t)g.width * (size_t)g.height; p++) memcpy(rgb + p * 3, background, 3);
    const int u = g.upscale, f = g.font_scale;
    for (int i = 0; i < count; i++) {
        int cell_x = NN_GRID_PAD + (i % g.columns) * (g.cell_width + NN_GRID_PAD);
        int y0 = NN_GRID_PAD + (i / g.columns) * (g.cell_height + NN_GRID_PAD);
        int x0 = cell_x + (g.cell_width - cols * u) / 2;
        for (int y = 0; y < rows * u; y++)
            for (int x = 0; x < cols * u; x++)
                memset(rgb + ((size_t)(y0 + y) * g.width + (size_t)(x0 + x)) * 3,
                       tiles[i].gray[(size_t)(y / u) * cols + (size_t)(x / u)], 3);
        for (int k = 0; k < 2; k++) {
            int w = (int)strlen(tiles[i].caption[k]) * ADVANCE * f;
            draw_text(rgb, g.width, cell_x + (g.cell_width - w) / 2,
                      y0 + rows * u + 2 + k * LINE_H * f + f, tiles[i].caption[k], f,
                      caption_colours[k]);
        }
    }
    NnStatus status = nn_image_write_png(path, g.width, g.height, rgb, text, err);
    free(rgb);
    return status;
}
