/* The tutorial's gradient-descent demo in C: f(x, y) = x^2 + y^2, its gradient by central
 * differences, and 50 steps of 0.03 downhill from (50, 43), printed as (x, y, z) triples
 * and, with --svg, drawn over the contour lines of f. The same for a function with two
 * wells, where a start on the wrong side ends in the shallower one.
 *
 *   gradient-descent [--function bowl|two-wells] [--start X,Y] [--step S] [--steps N]
 *                    [--gradient] [--svg FILE]
 *
 * Plain C11 and libm; nothing of nn-mpi's library. The network's own version of this loop
 * is nn_sgd_step (src/nn_optim.c), with gradients from backpropagation, which
 * nn-mpi gradcheck compares with these central differences (src/nn_gradcheck.c). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define H 1e-6 /* the tutorial's step for the central differences */

typedef struct {
    const char *name;
    const char *formula; /* for the picture's title */
    double (*f)(double x, double y);
    double start[2]; /* where the descent starts unless --start says otherwise */
    double area[4];  /* xmin, xmax, ymin, ymax: the least area drawn (widened to the path) */
} Function;

static double bowl(double x, double y)
{
    return x * x + y * y;
}

/* Minima at (-1.3008, 0), f = -3.5139 (the global one) and at (1.1309, 0), f = -1.0702,
 * with a saddle between them at (0.1699, 0): a start with x > 0.1699 runs into the local
 * minimum (for steps small enough not to jump the ridge). */
static double two_wells(double x, double y)
{
    return x * x * x * x - 3 * x * x + x + y * y;
}

static const Function functions[] = {
    {"bowl", "x\xc2\xb2 + y\xc2\xb2", bowl, {50, 43}, {-10, 10, -10, 10}},
    {"two-wells", "x\xe2\x81\xb4 \xe2\x88\x92 3x\xc2\xb2 + x + y\xc2\xb2", two_wells, {2, 1},
     {-2.2, 2.2, -1.6, 1.6}},
    {NULL, NULL, NULL, {0, 0}, {0, 0, 0, 0}},
};

/* The tutorial's grad: each partial derivative as (f(p + h e_i) - f(p - h e_i)) / 2h. */
static void numerical_gradient(double (*f)(double, double), double x, double y, double g[2])
{
    g[0] = (f(x + H, y) - f(x - H, y)) / (2 * H);
    g[1] = (f(x, y + H) - f(x, y - H)) / (2 * H);
}

/* ---- the picture ---- */

enum { PLOT_WIDTH = 600, MARGIN = 40, GRID = 200, LEVELS = 14 };
#define PATH_COLOUR "#d62728"

typedef struct {
    double xmin, xmax, ymin, ymax; /* the data area shown */
    double scale;                  /* pixels per unit, the same along x and y */
    double height;                 /* of the plot area, pixels */
} View;

static double px(const View *v, double x)
{
    return MARGIN + (x - v->xmin) * v->scale;
}

static double py(const View *v, double y)
{
    return MARGIN + (v->ymax - y) * v->scale;
}

/* The point where f crosses level between grid points a (value fa) and b (value fb). */
static void cross(double level, const double a[2], double fa, const double b[2], double fb,
                  double out[2])
{
    double t = (level - fa) / (fb - fa);
    out[0] = a[0] + t * (b[0] - a[0]);
    out[1] = a[1] + t * (b[1] - a[1]);
}

/* One contour line of f at level, by marching squares over the grid of samples
 * z:(ny + 1, nx + 1) (z[j][i] = f(xmin + i dx, ymin + j dy)), as one SVG path of segments. */
static void contour(FILE *out, const View *v, const double *z, int nx, int ny, double level)
{
    double dx = (v->xmax - v->xmin) / nx, dy = (v->ymax - v->ymin) / ny;
    fprintf(out, "<path d=\"");
    for (int j = 0; j < ny; j++)
        for (int i = 0; i < nx; i++) {
            /* corners counter-clockwise from the lower left; edge e joins corner e and e+1 */
            double c[4][2] = {{v->xmin + i * dx, v->ymin + j * dy},
                              {v->xmin + (i + 1) * dx, v->ymin + j * dy},
                              {v->xmin + (i + 1) * dx, v->ymin + (j + 1) * dy},
                              {v->xmin + i * dx, v->ymin + (j + 1) * dy}};
            double f[4] = {z[j * (nx + 1) + i], z[j * (nx + 1) + i + 1],
                           z[(j + 1) * (nx + 1) + i + 1], z[(j + 1) * (nx + 1) + i]};
            double p[4][2];
            int n = 0;
            for (int e = 0; e < 4; e++) {
                int a = e, b = (e + 1) % 4;
                if ((f[a] < level) != (f[b] < level)) cross(level, c[a], f[a], c[b], f[b], p[n++]);
            }
            /* A saddle cell: corners 0 and 2 lie on one side, 1 and 3 on the other. The pairs
             * (p0 p1) (p2 p3) cut off corners 1 and 3; when the centre lies on their side,
             * corners 0 and 2 are the ones cut off instead: (p3 p0) (p1 p2). */
            if (n == 4) {
                double centre = (f[0] + f[1] + f[2] + f[3]) / 4;
                if ((centre < level) != (f[0] < level)) {
                    double t[2] = {p[0][0], p[0][1]};
                    p[0][0] = p[3][0], p[0][1] = p[3][1];
                    p[3][0] = p[1][0], p[3][1] = p[1][1];
                    p[1][0] = t[0], p[1][1] = t[1];
                }
            }
            for (int s = 0; s + 1 < n; s += 2)
                fprintf(out, "M%.1f %.1fL%.1f %.1f", px(v, p[s][0]), py(v, p[s][1]),
                        px(v, p[s + 1][0]), py(v, p[s + 1][1]));
        }
    fprintf(out, "\"/>\n");
}

/* The contour lines of fn over the view and the path (n points) on them, as SVG. */
static void draw(FILE *out, const Function *fn, const View *v, const double (*path)[3], int n,
                 double step)
{
    int nx = GRID, ny = (int)ceil(GRID * (v->ymax - v->ymin) / (v->xmax - v->xmin));
    double *z = malloc(sizeof(double) * (size_t)(nx + 1) * (size_t)(ny + 1));
    if (!z) {
        fprintf(stderr, "gradient-descent: out of memory for the contour grid\n");
        exit(1);
    }
    double lo = INFINITY, hi = -INFINITY;
    for (int j = 0; j <= ny; j++)
        for (int i = 0; i <= nx; i++) {
            double x = v->xmin + i * (v->xmax - v->xmin) / nx;
            double y = v->ymin + j * (v->ymax - v->ymin) / ny;
            double f = z[j * (nx + 1) + i] = fn->f(x, y);
            lo = f < lo ? f : lo;
            hi = f > hi ? f : hi;
        }
    double width = PLOT_WIDTH + 2 * MARGIN, height = v->height + 2 * MARGIN;
    fprintf(out,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"13\"\n"
            "     data-view=\"%.9g %.9g %.9g %.9g\" data-area=\"%d %d %.9g %.9g\">\n",
            width, height, width, height, v->xmin, v->xmax, v->ymin, v->ymax, MARGIN, MARGIN,
            (double)PLOT_WIDTH, v->height);
    fprintf(out, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(out, "<text x=\"%d\" y=\"%d\">f(x, y) = %s: %d steps of %g from (%g, %g)</text>\n",
            MARGIN, MARGIN - 14, fn->formula, n - 1, step, path[0][0], path[0][1]);
    /* Levels crowd towards the bottom, where the interesting part is: for the bowl they are
     * circles of evenly spaced radii. */
    fprintf(out, "<g fill=\"none\" stroke=\"#7a9cc6\" stroke-width=\"1\">\n");
    for (int k = 1; k <= LEVELS; k++) {
        double t = (double)k / (LEVELS + 1);
        contour(out, v, z, nx, ny, lo + (hi - lo) * t * t);
    }
    fprintf(out, "</g>\n");
    fprintf(out, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%.1f\" fill=\"none\" "
                 "stroke=\"#444\"/>\n",
            MARGIN, MARGIN, PLOT_WIDTH, v->height);
    fprintf(out, "<text x=\"%d\" y=\"%.1f\">%.3g</text>\n", MARGIN, MARGIN + v->height + 16,
            v->xmin);
    fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">x = %.3g</text>\n",
            MARGIN + PLOT_WIDTH, MARGIN + v->height + 16, v->xmax);
    fprintf(out, "<text x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%.3g</text>\n", MARGIN - 4,
            MARGIN + v->height, v->ymin);
    fprintf(out, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%.3g</text>\n", MARGIN - 4,
            MARGIN + 10, v->ymax);
    fprintf(out, "<g fill=\"%s\" stroke=\"%s\">\n<polyline fill=\"none\" stroke-width=\"2\" "
                 "points=\"",
            PATH_COLOUR, PATH_COLOUR);
    for (int k = 0; k < n; k++)
        fprintf(out, "%s%.1f,%.1f", k ? " " : "", px(v, path[k][0]), py(v, path[k][1]));
    fprintf(out, "\"/>\n");
    for (int k = 1; k < n; k++)
        fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"/>\n", px(v, path[k][0]),
                py(v, path[k][1]));
    fprintf(out, "<circle id=\"start\" cx=\"%.1f\" cy=\"%.1f\" r=\"6\"/>\n", px(v, path[0][0]),
            py(v, path[0][1]));
    fprintf(out, "</g>\n</svg>\n");
    free(z);
}

/* Writes the picture to path, whole or not at all (a temporary name, then a rename). */
static int write_svg(const char *path, const Function *fn, const double (*points)[3], int n,
                     double step)
{
    View v = {fn->area[0], fn->area[1], fn->area[2], fn->area[3], 0, 0};
    for (int k = 0; k < n; k++) {
        v.xmin = fmin(v.xmin, points[k][0]), v.xmax = fmax(v.xmax, points[k][0]);
        v.ymin = fmin(v.ymin, points[k][1]), v.ymax = fmax(v.ymax, points[k][1]);
    }
    double padx = 0.08 * (v.xmax - v.xmin), pady = 0.08 * (v.ymax - v.ymin);
    v.xmin -= padx, v.xmax += padx, v.ymin -= pady, v.ymax += pady;
    v.scale = PLOT_WIDTH / (v.xmax - v.xmin);
    v.height = (v.ymax - v.ymin) * v.scale;
    if (v.height > 3 * PLOT_WIDTH) {
        fprintf(stderr, "gradient-descent: the path is too tall and narrow to draw (%g x %g)\n",
                v.xmax - v.xmin, v.ymax - v.ymin);
        return 1;
    }

    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        fprintf(stderr, "gradient-descent: %s: name too long\n", path);
        return 1;
    }
    FILE *out = fopen(tmp, "w");
    if (!out) {
        fprintf(stderr, "gradient-descent: %s: cannot create: %s\n", tmp, strerror(errno));
        return 1;
    }
    draw(out, fn, &v, points, n, step);
    int failed = ferror(out);
    if (fclose(out) != 0 || failed) {
        fprintf(stderr, "gradient-descent: %s: cannot write: %s\n", tmp, strerror(errno));
        remove(tmp);
        return 1;
    }
    if (rename(tmp, path) != 0) {
        fprintf(stderr, "gradient-descent: %s: cannot rename to %s: %s\n", tmp, path,
                strerror(errno));
        remove(tmp);
        return 1;
    }
    return 0;
}

/* ---- the command line ---- */

static void usage(FILE *out)
{
    fprintf(out,
            "usage: gradient-descent [--function bowl|two-wells] [--start X,Y] [--step S]\n"
            "                        [--steps N] [--gradient] [--svg FILE]\n"
            "Descends f from the start by STEP times the central-difference gradient (h = 1e-6),\n"
            "N times, and prints each point as (x, y, f(x, y)), the start first.\n"
            "  --function    bowl: f = x^2 + y^2, from (50, 43) (the tutorial's demo);\n"
            "                two-wells: f = x^4 - 3x^2 + x + y^2, from (2, 1), which ends in\n"
            "                the local minimum near (1.131, 0), not the global one near\n"
            "                (-1.301, 0): start at x < 0.17 (--start -2,1) to reach that\n"
            "  --start X,Y   another start\n"
            "  --step S      the learning rate (default 0.03)\n"
            "  --steps N     how many steps (default 50)\n"
            "  --gradient    also print the gradient used at each point: (x, y, z) grad (gx, gy)\n"
            "  --svg FILE    draw the contour lines of f and the path on them\n");
}

static int bad_usage(const char *what, const char *value)
{
    fprintf(stderr, "gradient-descent: %s '%s'\n", what, value);
    usage(stderr);
    return 2;
}

/* A whole string as a finite double. */
static int parse_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return end != s && *end == '\0' && errno == 0 && isfinite(*out);
}

int main(int argc, char **argv)
{
    const Function *fn = &functions[0];
    double start[2] = {0, 0}, step = 0.03;
    int steps = 50, show_gradient = 0, have_start = 0;
    const char *svg = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(arg, "--gradient")) {
            show_gradient = 1;
            continue;
        }
        if (!value) return bad_usage("a value is missing after", arg);
        i++;
        if (!strcmp(arg, "--function")) {
            for (fn = functions; fn->name && strcmp(fn->name, value); fn++) {}
            if (!fn->name) return bad_usage("--function: not bowl or two-wells:", value);
        } else if (!strcmp(arg, "--start")) {
            char x[64];
            const char *comma = strchr(value, ',');
            size_t n = comma ? (size_t)(comma - value) : 0;
            if (!comma || n >= sizeof x) return bad_usage("--start: expected X,Y, not", value);
            memcpy(x, value, n);
            x[n] = '\0';
            if (!parse_number(x, &start[0]) || !parse_number(comma + 1, &start[1]))
                return bad_usage("--start: expected two numbers X,Y, not", value);
            have_start = 1;
        } else if (!strcmp(arg, "--step")) {
            if (!parse_number(value, &step) || step <= 0)
                return bad_usage("--step: expected a number > 0, not", value);
        } else if (!strcmp(arg, "--steps")) {
            double n;
            if (!parse_number(value, &n) || n != floor(n) || n < 0 || n > 1e6)
                return bad_usage("--steps: expected a whole number 0..1000000, not", value);
            steps = (int)n;
        } else if (!strcmp(arg, "--svg")) {
            svg = value;
        } else {
            return bad_usage("unknown option", arg);
        }
    }
    if (!have_start) start[0] = fn->start[0], start[1] = fn->start[1];

    double(*path)[3] = malloc(sizeof *path * ((size_t)steps + 1));
    if (!path) {
        fprintf(stderr, "gradient-descent: out of memory for %d steps\n", steps);
        return 1;
    }
    /* The tutorial's loop: p <- p - step * grad f(p). */
    double x = start[0], y = start[1];
    for (int k = 0; k <= steps; k++) {
        double g[2];
        path[k][0] = x, path[k][1] = y, path[k][2] = fn->f(x, y);
        if (!isfinite(path[k][2])) {
            fprintf(stderr, "gradient-descent: f(%g, %g) is not finite (after %d steps): the "
                            "start is too far out or the step %g too large\n",
                    x, y, k, step);
            free(path);
            return 1;
        }
        numerical_gradient(fn->f, x, y, g);
        printf("(%.10g, %.10g, %.10g)", x, y, path[k][2]);
        if (show_gradient) printf(" grad (%.10g, %.10g)", g[0], g[1]);
        printf("\n");
        x -= step * g[0];
        y -= step * g[1];
    }
    if (path[steps][2] > path[0][2])
        fprintf(stderr, "gradient-descent: f rose from %g to %g: the step %g is too large here, "
                        "each one overshoots the valley\n",
                path[0][2], path[steps][2], step);
    int status = svg ? write_svg(svg, fn, (const double(*)[3])path, steps + 1, step) : 0;
    free(path);
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "gradient-descent: cannot write the path: %s\n", strerror(errno));
        return 1;
    }
    return status;
}
