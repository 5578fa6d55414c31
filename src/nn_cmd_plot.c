/* nn-mpi plot RUN... -o FILE.svg [--title TEXT]
 * The loss and accuracy (or R^2) per epoch of one or more runs, read from their metrics
 * files (nn_metrics.h), drawn as one SVG chart (nn_plot.h) written whole or not at all.
 * RUN is a run's directory (its metrics.jsonl) or a metrics file. One process, no MPI.
 * Exit status: 0 written, 1 bad input (message on stderr, no file written), 2 bad usage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "nn_cli.h"
#include "nnmpi/nn_metrics.h"
#include "nnmpi/nn_plot.h"
#include "nnmpi/nn_svg.h"

#define PROG "nn-mpi plot"

typedef struct {
    const char **runs; /* n_runs arguments, views into argv */
    int n_runs;
    const char *out, *title;
    int help;
} Args;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: nn-mpi plot RUN... -o FILE.svg [--title TEXT]\n"
            "Draws the loss (train, validation, test) and the accuracy (validation, test) per\n"
            "epoch of each RUN, from the epoch events of its metrics, as an SVG chart of two\n"
            "panels; a regression run's second panel shows R^2. RUN is a run directory\n"
            "(runs/mnist/version_0: its metrics.jsonl) or a metrics file; several RUNs are\n"
            "overlaid, one colour each (train solid, validation dashed, test dotted). A file\n"
            "holding several runs (run ids) gives a curve each; an epoch logged again after a\n"
            "resume counts once, its latest event. Legends name each curve by its RUN (the\n"
            "parts of the paths that differ). FILE appears whole or not at all.\n"
            "  -o FILE.svg     the chart to write\n"
            "  --title TEXT    its title (default: \"Loss and accuracy per epoch\")\n"
            "Exit status: 0 written, 1 a missing or unreadable file, a line that is not JSON,\n"
            "no epoch events; 2 bad usage.\n");
}

static NnStatus parse_args(int argc, char **argv, Args *a, char err[NN_ERR_LEN])
{
    memset(a, 0, sizeof *a);
    a->runs = calloc((size_t)argc, sizeof *a->runs);
    if (!a->runs) return nn_fail(err, "out of memory");
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            a->help = 1;
        } else if (strcmp(arg, "-o") == 0 || strcmp(arg, "--title") == 0) {
            if (i + 1 == argc) return nn_fail(err, "%s needs a value", arg);
            if (arg[1] == 'o')
                a->out = argv[++i];
            else
                a->title = argv[++i];
        } else if (arg[0] == '-' && arg[1] != '\0') {
            return nn_fail(err, "unknown option %s (see --help)", arg);
        } else {
            a->runs[a->n_runs++] = arg;
        }
    }
    if (a->help) return NN_OK;
    if (a->n_runs == 0) return nn_fail(err, "no RUN given (see --help)");
    if (!a->out) return nn_fail(err, "no output file given (-o FILE.svg)");
    size_t n = strlen(a->out);
    if (n < 4 || strcmp(a->out + n - 4, ".svg") != 0)
        return nn_fail(err, "-o %s: plot writes SVG; name the file *.svg", a->out);
    return NN_OK;
}

/* The metrics file of RUN (a directory's metrics.jsonl, or RUN itself) and its name before
 * shortening: the directory, or the file without ".jsonl" (caller frees both). */
static NnStatus locate(const char *run, char **path, char **name)
{
    size_t n = strlen(run);
    while (n > 1 && run[n - 1] == '/') n--; /* "runs/a/" is "runs/a" */
    struct stat st;
    int dir = stat(run, &st) == 0 && S_ISDIR(st.st_mode);
    *path = malloc(n + sizeof "/metrics.jsonl");
    *name = malloc(n + 1);
    if (!*path || !*name) return NN_ERR;
    snprintf(*name, n + 1, "%.*s", (int)n, run);
    if (dir) {
        snprintf(*path, n + sizeof "/metrics.jsonl", "%s/metrics.jsonl", *name);
        return NN_OK;
    }
    snprintf(*path, n + 1, "%s", *name);
    const char *base = strrchr(*name, '/');
    base = base ? base + 1 : *name;
    if (strcmp(base, "metrics.jsonl") == 0 && base > *name + 1)
        (*name)[base - *name - 1] = '\0'; /* ".../version_0/metrics.jsonl": ".../version_0" */
    else if (n > 6 && strcmp(*name + n - 6, ".jsonl") == 0)
        (*name)[n - 6] = '\0';
    return NN_OK;
}

/* Where the legend names start: after the last '/' of the leading text all names share,
 * so that each keeps what tells it apart (and one name keeps its last part). */
static size_t common_dirs(char **names, int n)
{
    size_t common = strlen(names[0]);
    for (int i = 1; i < n; i++) {
        size_t k = 0;
        while (k < common && names[i][k] == names[0][k]) k++;
        common = k;
    }
    size_t cut = 0;
    for (size_t k = 0; k < common; k++)
        if (names[0][k] == '/') cut = k + 1;
    for (int i = 0; i < n; i++)
        if (names[i][cut] == '\0') return 0; /* a name would be left empty */
    return cut;
}

static int run_plot(const Args *a)
{
    char err[NN_ERR_LEN];
    char **paths = calloc((size_t)a->n_runs, sizeof *paths);
    char **names = calloc((size_t)a->n_runs, sizeof *names);
    NnMetrics m = {0};
    NnSvg svg = {0};
    int code = NN_EXIT_FAILED;
    if (!paths || !names) {
        fprintf(stderr, PROG ": out of memory\n");
        goto done;
    }
    for (int i = 0; i < a->n_runs; i++)
        if (locate(a->runs[i], &paths[i], &names[i]) != NN_OK) {
            fprintf(stderr, PROG ": out of memory\n");
            goto done;
        }
    size_t cut = common_dirs(names, a->n_runs);
    for (int i = 0; i < a->n_runs; i++) {
        int64_t skipped = 0;
        if (nn_metrics_read(paths[i], names[i] + cut, &m, &skipped, err) != NN_OK) {
            fprintf(stderr, PROG ": %s\n", err);
            goto done;
        }
        if (skipped)
            fprintf(stderr, PROG ": note: %s:%lld: skipped an incomplete last line (no newline: "
                                 "its writer may have been killed mid-line)\n",
                    paths[i], (long long)skipped);
    }
    int regression = 0;
    for (int i = 0; i < m.count; i++) regression += m.runs[i].regression;
    const char *title = a->title            ? a->title
                        : regression == 0       ? "Loss and accuracy per epoch"
                        : regression == m.count ? "Loss and R\xc2\xb2 per epoch"
                                                : "Loss and accuracy or R\xc2\xb2 per epoch";
    nn_plot_curves(&svg, &m, title);
    if (nn_svg_save(&svg, a->out, err) != NN_OK) {
        fprintf(stderr, PROG ": %s\n", err);
        goto done;
    }
    int64_t last = 0;
    for (int i = 0; i < m.count; i++)
        if (m.runs[i].epochs > last) last = m.runs[i].epochs;
    printf("wrote %s: %d run%s, epochs 1 to %lld\n", a->out, m.count, m.count == 1 ? "" : "s",
           (long long)last);
    code = 0;
done:
    for (int i = 0; i < a->n_runs; i++) {
        if (paths) free(paths[i]);
        if (names) free(names[i]);
    }
    free(paths);
    free(names);
    nn_metrics_free(&m);
    nn_svg_free(&svg);
    return code;
}

int nn_cmd_plot(int argc, char **argv)
{
    char err[NN_ERR_LEN];
    Args a;
    int code;
    if (parse_args(argc, argv, &a, err) != NN_OK) {
        fprintf(stderr, PROG ": %s\n", err);
        code = NN_EXIT_USAGE;
    } else if (a.help) {
        usage(stdout);
        code = 0;
    } else {
        code = run_plot(&a);
    }
    free(a.runs);
    return code;
}
