/* Layout in pixels (SVG user units); text widths are estimated (no font metrics): 0.6 em a
 * character, DejaVu Sans' average. */
#include "nnmpi/nn_plot.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- shared ---- */

/* Tableau's 10 categorical colours: one per run. */
static const char *const run_colours[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
#define N_RUN_COLOURS (int)(sizeof run_colours / sizeof run_colours[0])

#define FONT 12          /* tick labels, legends */
#define CHAR_W (0.6 * FONT)

/* A tick step of 1, 2 or 5 times a power of ten near span / 5. */
static double nice_step(double span)
{
    double raw = span / 5.0, mag = pow(10.0, floor(log10(raw))), f = raw / mag;
    return (f < 1.5 ? 1.0 : f < 3.0 ? 2.0 : f < 7.0 ? 5.0 : 10.0) * mag;
}

/* Decimals that print every multiple of step exactly enough. */
static int step_decimals(double step)
{
    int d = (int)-floor(log10(step) + 1e-9);
    return d < 0 ? 0 : d > 12 ? 12 : d;
}

typedef struct {
    double lo, hi, step; /* the axis spans [lo, hi]; ticks at multiples of step */
} Axis;

/* An axis over [lo, hi] (finite, lo <= hi) rounded out to whole ticks. */
static Axis value_axis(double lo, double hi)
{
    if (hi - lo <= 1e-12 * fmax(1.0, fabs(hi))) {
        double d = hi != 0.0 ? fabs(hi) * 0.1 : 1.0;
        lo -= d;
        hi += d;
    }
    Axis a = {.step = nice_step(hi - lo)};
    a.lo = floor(lo / a.step) * a.step;
    a.hi = ceil(hi / a.step) * a.step;
    return a;
}

/* ---- curves ---- */

enum { LEFT = 84, TOP = 56, PLOT_W = 560, MIN_PLOT_H = 250, PANEL_GAP = 76, ENTRY_H = 16,
       LEGEND_GAP = 24, LEGEND_SAMPLE = 30 };

typedef struct {
    const char *data_name; /* data-panel */
    const char *y_title;
    NnSeries series[3];    /* per run: the series drawn, those of the run's kind */
    int n_series;
    int regression_panel;  /* 1: the second panel (accuracy or R^2) */
} Panel;

/* The series of run r that the panel draws (n of them into out). */
static int panel_series(const Panel *p, const NnMetricsRun *r, NnSeries out[3])
{
    if (!p->regression_panel) {
        memcpy(out, p->series, sizeof(NnSeries) * 3);
        return 3;
    }
    out[0] = r->regression ? NN_SERIES_VALIDATION_R2 : NN_SERIES_VALIDATION_ACCURACY;
    out[1] = r->regression ? NN_SERIES_TEST_R2 : NN_SERIES_TEST_ACCURACY;
    return 2;
}

static int has_values(const NnMetricsRun *r, NnSeries s)
{
    for (int64_t e = 1; e <= r->epochs; e++)
        if (isfinite(nn_metrics_value(r, e, s))) return 1;
    return 0;
}

/* "validation loss", "test R²", ... */
static const char *series_label(NnSeries s)
{
    switch (s) {
    case NN_SERIES_TRAIN_LOSS: return "train loss";
    case NN_SERIES_VALIDATION_LOSS: return "validation loss";
    case NN_SERIES_TEST_LOSS: return "test loss";
    case NN_SERIES_VALIDATION_ACCURACY: return "validation accuracy";
    case NN_SERIES_TEST_ACCURACY: return "test accuracy";
    case NN_SERIES_VALIDATION_R2: return "validation R\xc2\xb2";
    case NN_SERIES_TEST_R2: return "test R\xc2\xb2";
    default: return "?";
    }
}

/* Train solid, validation dashed, test dotted. */
static const char *series_dash(NnSeries s)
{
    switch (s) {
    case NN_SERIES_VALIDATION_LOSS:
    case NN_SERIES_VALIDATION_ACCURACY:
    case NN_SERIES_VALIDATION_R2: return "8,4";
    case NN_SERIES_TEST_LOSS:
    case NN_SERIES_TEST_ACCURACY:
    case NN_SERIES_TEST_R2: return "2,3";
    default: return NULL;
    }
}

/* Legend entries (curves with at least one value) and the longest entry's characters. */
static int legend_entries(const Panel *p, const NnMetrics *m, size_t *longest)
{
    int n = 0;
    for (int i = 0; i < m->count; i++) {
        NnSeries s[3];
        int k = panel_series(p, &m->runs[i], s);
        for (int j = 0; j < k; j++) {
            if (!has_values(&m->runs[i], s[j])) continue;
            size_t len = strlen(m->runs[i].name) + 1 + strlen(series_label(s[j]));
            if (len > *longest) *longest = len;
            n++;
        }
    }
    return n;
}

static void draw_panel(NnSvg *svg, const Panel *p, const NnMetrics *m, const Axis *x, int top,
                       int height)
{
    /* The y axis over every value the panel draws. */
    double lo = INFINITY, hi = -INFINITY;
    for (int i = 0; i < m->count; i++) {
        NnSeries s[3];
        int k = panel_series(p, &m->runs[i], s);
        for (int j = 0; j < k; j++)
            for (int64_t e = 1; e <= m->runs[i].epochs; e++) {
                double v = nn_metrics_value(&m->runs[i], e, s[j]);
                if (!isfinite(v)) continue;
                lo = fmin(lo, v);
                hi = fmax(hi, v);
            }
    }
    int empty = !(lo <= hi);
    Axis y = value_axis(empty ? 0.0 : lo, empty ? 1.0 : hi);
    double sx = PLOT_W / (x->hi - x->lo), sy = height / (y.hi - y.lo);
#define PX(e) (LEFT + ((double)(e) - x->lo) * sx)
#define PY(v) (top + height - ((v) - y.lo) * sy)
    nn_svg_printf(svg, "<g class=\"panel\">\n");
    /* Grid lines and ticks. */
    int yd = step_decimals(y.step);
    for (double t = y.lo; t <= y.hi + y.step * 1e-6; t += y.step) {
        double v = fabs(t) < y.step * 1e-9 ? 0.0 : t, py = PY(v);
        char label[64];
        snprintf(label, sizeof label, "%.*f", yd, v);
        nn_svg_printf(svg, "<line x1=\"%d\" y1=\"%.2f\" x2=\"%d\" y2=\"%.2f\" stroke=\"#e4e4e4\"/>"
                           "<line x1=\"%d\" y1=\"%.2f\" x2=\"%d\" y2=\"%.2f\" stroke=\"#444\"/>\n",
                      LEFT, py, LEFT + PLOT_W, py, LEFT - 5, py, LEFT, py);
        nn_svg_text(svg, LEFT - 8, py + 4, "class=\"tick\" font-size=\"12\" text-anchor=\"end\"",
                    label);
    }
    for (double t = ceil(x->lo / x->step) * x->step; t <= x->hi + 1e-9; t += x->step) {
        double px = PX(t);
        char label[64];
        snprintf(label, sizeof label, "%.0f", t);
        nn_svg_printf(svg, "<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"#e4e4e4\"/>"
                           "<line x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\" stroke=\"#444\"/>\n",
                      px, top, px, top + height, px, top + height, px, top + height + 5);
        nn_svg_text(svg, px, top + height + 19,
                    "class=\"tick\" font-size=\"12\" text-anchor=\"middle\"", label);
    }
    nn_svg_printf(svg,
                  "<rect class=\"plot-area\" data-panel=\"%s\" x=\"%d\" y=\"%d\" width=\"%d\" "
                  "height=\"%d\" data-xmin=\"%.17g\" data-xmax=\"%.17g\" data-ymin=\"%.17g\" "
                  "data-ymax=\"%.17g\" fill=\"none\" stroke=\"#444\"/>\n",
                  p->data_name, LEFT, top, PLOT_W, height, x->lo, x->hi, y.lo, y.hi);
    nn_svg_text(svg, LEFT + PLOT_W / 2.0, top + height + 40,
                "class=\"axis-title\" font-size=\"13\" text-anchor=\"middle\"", "epoch");
    char rotate[128];
    snprintf(rotate, sizeof rotate,
             "class=\"axis-title\" font-size=\"13\" text-anchor=\"middle\" "
             "transform=\"rotate(-90 %d %.1f)\"",
             LEFT - 62, top + height / 2.0);
    nn_svg_text(svg, LEFT - 62, top + height / 2.0, rotate, p->y_title);
    if (empty)
        nn_svg_text(svg, LEFT + PLOT_W / 2.0, top + height / 2.0,
                    "font-size=\"13\" fill=\"#888\" text-anchor=\"middle\"", "no values");

    /* Curves, markers and the legend, run after run (later runs on top). */
    int entry = 0, lx = LEFT + PLOT_W + LEGEND_GAP;
    for (int i = 0; i < m->count; i++) {
        const NnMetricsRun *r = &m->runs[i];
        const char *colour = run_colours[i % N_RUN_COLOURS];
        NnSeries s[3];
        int k = panel_series(p, r, s);
        for (int j = 0; j < k; j++) {
            if (!has_values(r, s[j])) continue;
            const char *dash = series_dash(s[j]);
            char style[96];
            snprintf(style, sizeof style, "fill=\"none\" stroke=\"%s\" stroke-width=\"2\"%s%s%s",
                     colour, dash ? " stroke-dasharray=\"" : "", dash ? dash : "",
                     dash ? "\"" : "");
            for (int64_t e = 1; e <= r->epochs;) { /* one polyline per stretch without gaps */
                if (!isfinite(nn_metrics_value(r, e, s[j]))) {
                    e++;
                    continue;
                }
                nn_svg_printf(svg, "<polyline class=\"series\" data-run=\"%d\" data-series=\"%s\" "
                                   "%s points=\"", i, nn_series_key(s[j]), style);
                for (; e <= r->epochs && isfinite(nn_metrics_value(r, e, s[j])); e++)
                    nn_svg_printf(svg, "%.2f,%.2f ", PX(e), PY(nn_metrics_value(r, e, s[j])));
                nn_svg_printf(svg, "\"/>\n");
            }
            for (int64_t e = 1; e <= r->epochs; e++) {
                double v = nn_metrics_value(r, e, s[j]);
                if (isfinite(v))
                    nn_svg_printf(svg, "<circle class=\"point\" data-run=\"%d\" data-series=\"%s\" "
                                       "data-epoch=\"%lld\" data-value=\"%.17g\" cx=\"%.2f\" "
                                       "cy=\"%.2f\" r=\"3\" fill=\"%s\"/>\n",
                                  i, nn_series_key(s[j]), (long long)e, v, PX(e), PY(v), colour);
            }
            double ly = top + 10 + entry++ * ENTRY_H;
            nn_svg_printf(svg, "<g class=\"legend\" data-run=\"%d\" data-series=\"%s\">"
                               "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" %s/>"
                               "<circle cx=\"%d\" cy=\"%.1f\" r=\"3\" fill=\"%s\"/>",
                          i, nn_series_key(s[j]), lx, ly, lx + LEGEND_SAMPLE, ly, style,
                          lx + LEGEND_SAMPLE / 2, ly, colour);
            char text[512];
            snprintf(text, sizeof text, "%s %s", r->name, series_label(s[j]));
            nn_svg_text(svg, lx + LEGEND_SAMPLE + 6, ly + 4, "font-size=\"12\"", text);
            nn_svg_printf(svg, "</g>\n");
        }
    }
    nn_svg_printf(svg, "</g>\n");
#undef PX
#undef PY
}

void nn_plot_curves(NnSvg *svg, const NnMetrics *m, const char *title)
{
    int regression = 0, classification = 0;
    int64_t last = 1;
    for (int i = 0; i < m->count; i++) {
        regression += m->runs[i].regression;
        classification += !m->runs[i].regression;
        if (m->runs[i].epochs > last) last = m->runs[i].epochs;
    }
    Panel panels[2] = {
        {.data_name = "loss", .y_title = "loss", .n_series = 3,
         .series = {NN_SERIES_TRAIN_LOSS, NN_SERIES_VALIDATION_LOSS, NN_SERIES_TEST_LOSS}},
        {.data_name = !regression ? "accuracy" : !classification ? "r2" : "accuracy-r2",
         .y_title = !regression ? "accuracy" : !classification ? "R\xc2\xb2" : "accuracy, R\xc2\xb2",
         .regression_panel = 1},
    };
    /* The epoch axis: 1 .. last in whole ticks. */
    Axis x = {.lo = 1.0, .hi = (double)(last > 2 ? last : 2)};
    x.step = fmax(1.0, nice_step(x.hi - x.lo));
    int heights[2];
    size_t longest = strlen("accuracy");
    for (int k = 0; k < 2; k++) {
        int entries = legend_entries(&panels[k], m, &longest);
        heights[k] = entries * ENTRY_H + 12 > MIN_PLOT_H ? entries * ENTRY_H + 12 : MIN_PLOT_H;
    }
    int width = LEFT + PLOT_W + LEGEND_GAP + LEGEND_SAMPLE + 6 + (int)(longest * CHAR_W) + 16;
    int height = TOP + heights[0] + PANEL_GAP + heights[1] + 56;
    int title_w = (int)(strlen(title) * 0.7 * 16) + 40; /* bold: wider than CHAR_W */
    if (title_w > width) width = title_w;
    nn_svg_begin(svg, width, height);
    nn_svg_text(svg, width / 2.0, 32,
                "class=\"title\" font-size=\"16\" font-weight=\"bold\" text-anchor=\"middle\"",
                title);
    draw_panel(svg, &panels[0], m, &x, TOP, heights[0]);
    draw_panel(svg, &panels[1], m, &x, TOP + heights[0] + PANEL_GAP, heights[1]);
}

/* ---- confusion matrix ---- */

/* ColorBrewer's sequential "Blues", white to dark blue. */
static const unsigned char blues[][3] = {
    {0xff, 0xff, 0xff}, {0xde, 0xeb, 0xf7}, {0xc6, 0xdb, 0xef}, {0x9e, 0xca, 0xe1},
    {0x6b, 0xae, 0xd6}, {0x42, 0x92, 0xc6}, {0x21, 0x71, 0xb5}, {0x08, 0x51, 0x9c},
    {0x08, 0x30, 0x6b}};
#define N_BLUES (int)(sizeof blues / sizeof blues[0])

/* "#rrggbb" of fraction t in [0, 1] along the stops (interpolated in sRGB). */
static void shade(double t, char out[8])
{
    t = t < 0.0 ? 0.0 : t > 1.0 ? 1.0 : t;
    double at = t * (N_BLUES - 1);
    int i = (int)at < N_BLUES - 1 ? (int)at : N_BLUES - 2;
    double f = at - i;
    int c[3];
    for (int k = 0; k < 3; k++) c[k] = (int)lround(blues[i][k] + f * (blues[i + 1][k] - blues[i][k]));
    snprintf(out, 8, "#%02x%02x%02x", c[0], c[1], c[2]);
}

void nn_plot_confusion(NnSvg *svg, const int64_t *confusion, int classes, const char *subtitle)
{
    const int C = classes, left = 92, top = 76;
    int cell = C <= 10 ? 44 : C <= NN_PLOT_MAX_COUNTED ? 30 : 600 / C > 2 ? 600 / C : 2;
    int grid = cell * C, scale_x = left + grid + 28, scale_h = grid > 200 ? grid : 200;
    int width = scale_x + 86 > 420 ? scale_x + 86 : 420;
    int subtitle_w = (int)(strlen(subtitle) * CHAR_W) + 40;
    if (subtitle_w > width) width = subtitle_w;
    int height = top + (grid > scale_h ? grid : scale_h) + 64;
    /* Class labels every `every` classes, at least 16 pixels apart. */
    static const int steps[] = {1, 2, 5, 10, 20, 50, 100, 200, 500, 1000};
    int every = 1;
    for (size_t k = 0; k < sizeof steps / sizeof steps[0] && steps[k] * cell < 16; k++)
        every = steps[k + 1 < sizeof steps / sizeof steps[0] ? k + 1 : k];
    nn_svg_begin(svg, width, height);
    nn_svg_text(svg, width / 2.0, 28,
                "class=\"title\" font-size=\"16\" font-weight=\"bold\" text-anchor=\"middle\"",
                "Confusion matrix");
    nn_svg_text(svg, width / 2.0, 50, "class=\"subtitle\" font-size=\"12\" text-anchor=\"middle\"",
                subtitle);
    int64_t largest = 0;
    for (size_t k = 0; k < (size_t)C * C; k++)
        if (confusion[k] > largest) largest = confusion[k];
    int digits = 1;
    for (int64_t v = largest; v >= 10; v /= 10) digits++;
    double font = fmin(13.0, cell * 0.85 / (0.62 * digits));
    nn_svg_printf(svg, "<g class=\"cells\">\n");
    for (int i = 0; i < C; i++) {
        int64_t total = 0;
        for (int j = 0; j < C; j++) total += confusion[(size_t)i * C + j];
        for (int j = 0; j < C; j++) {
            int64_t n = confusion[(size_t)i * C + j];
            double f = total > 0 ? (double)n / (double)total : 0.0;
            char fill[8];
            shade(f, fill);
            int x = left + j * cell, y = top + i * cell;
            nn_svg_printf(svg, "<rect class=\"cell\" data-true=\"%d\" data-predicted=\"%d\" "
                               "data-count=\"%lld\" data-fraction=\"%.6f\" x=\"%d\" y=\"%d\" "
                               "width=\"%d\" height=\"%d\" fill=\"%s\"/>\n",
                          i, j, (long long)n, f, x, y, cell, cell, fill);
            if (C <= NN_PLOT_MAX_COUNTED)
                nn_svg_printf(svg, "<text class=\"count\" data-true=\"%d\" data-predicted=\"%d\" "
                                   "x=\"%.1f\" y=\"%.1f\" font-size=\"%.1f\" text-anchor=\"middle\" "
                                   "fill=\"%s\">%lld</text>\n",
                              i, j, x + cell / 2.0, y + cell / 2.0 + font * 0.35, font,
                              f > 0.5 ? "#ffffff" : "#222222", (long long)n);
        }
    }
    nn_svg_printf(svg, "</g>\n<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
                       "stroke=\"#444\"/>\n",
                  left, top, grid, grid);
    for (int c = 0; c < C; c += every) {
        char label[16];
        snprintf(label, sizeof label, "%d", c);
        nn_svg_text(svg, left + (c + 0.5) * cell, top + grid + 16,
                    "class=\"tick\" font-size=\"12\" text-anchor=\"middle\"", label);
        nn_svg_text(svg, left - 6, top + (c + 0.5) * cell + 4,
                    "class=\"tick\" font-size=\"12\" text-anchor=\"end\"", label);
    }
    nn_svg_text(svg, left + grid / 2.0, top + grid + 40,
                "class=\"axis-title\" font-size=\"13\" text-anchor=\"middle\"", "predicted class");
    char rotate[128];
    snprintf(rotate, sizeof rotate,
             "class=\"axis-title\" font-size=\"13\" text-anchor=\"middle\" "
             "transform=\"rotate(-90 %d %.1f)\"",
             left - 48, top + grid / 2.0);
    nn_svg_text(svg, left - 48, top + grid / 2.0, rotate, "true class");

    /* The colour scale: 0 at the bottom, 1 at the top. */
    nn_svg_printf(svg, "<defs><linearGradient id=\"scale\" x1=\"0\" y1=\"1\" x2=\"0\" y2=\"0\">");
    for (int k = 0; k < N_BLUES; k++)
        nn_svg_printf(svg, "<stop offset=\"%.4f\" stop-color=\"#%02x%02x%02x\"/>",
                      (double)k / (N_BLUES - 1), blues[k][0], blues[k][1], blues[k][2]);
    nn_svg_printf(svg, "</linearGradient></defs>\n"
                       "<rect class=\"colour-scale\" x=\"%d\" y=\"%d\" width=\"16\" height=\"%d\" "
                       "fill=\"url(#scale)\" stroke=\"#444\"/>\n",
                  scale_x, top, scale_h);
    for (int k = 0; k <= 4; k++) {
        double y = top + scale_h - k * scale_h / 4.0;
        char label[16];
        snprintf(label, sizeof label, "%.2f", k / 4.0);
        nn_svg_printf(svg, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#444\"/>",
                      scale_x + 16, y, scale_x + 20, y);
        nn_svg_text(svg, scale_x + 23, y + 4, "class=\"tick\" font-size=\"11\"", label);
    }
    snprintf(rotate, sizeof rotate,
             "class=\"axis-title\" font-size=\"12\" text-anchor=\"middle\" "
             "transform=\"rotate(90 %d %.1f)\"",
             scale_x + 58, top + scale_h / 2.0);
    nn_svg_text(svg, scale_x + 58, top + scale_h / 2.0, rotate, "fraction of the true class");
}
