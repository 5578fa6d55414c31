/* nn-mpi-data: converts data sets into nn-mpi dataset files.
 *   nn-mpi-data [idx] [--source NAME] DIR OUT.h5              MNIST-style IDX (format 1)
 *   nn-mpi-data csv TRAIN.csv [TEST.csv] OUT.h5 [options]      (format 2, streaming)
 *   nn-mpi-data npy ... | libsvm ...                            (the same)
 * usage() is the reference. Exit status: 0 written; 1 bad input or write failure (OUT.h5
 * untouched, nothing beside it); 2 bad usage (or a bad NN_MPI_TEST_FAULT, nn_fault.h). */
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnmpi/nn_convert.h"
#include "nnmpi/nn_dataset.h"
#include "nnmpi/nn_dataset_writer.h"
#include "nnmpi/nn_fault.h"
#include "nnmpi/nn_h5.h"
#include "nnmpi/nn_idx.h"

static const char *const BASENAMES[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                         "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};

typedef enum { IDX = 1, CSV = 2, NPY = 4, SVM = 8, STREAMED = CSV | NPY | SVM } Format;

static const struct {
    const char *name;
    Format format;
} COMMANDS[] = {{"idx", IDX}, {"csv", CSV}, {"npy", NPY}, {"libsvm", SVM}, {NULL, 0}};

typedef enum {
    O_SOURCE, O_CLASSES, O_MAP_LABELS, O_STANDARDIZE, O_TEST_FRACTION, O_VALIDATION_FRACTION,
    O_SEED, O_HEADER, O_NO_HEADER, O_LABEL, O_TARGET, O_DELIMITER, O_FEATURES, O_LABELS,
    O_TARGETS, O_TEST_FEATURES, O_TEST_LABELS, O_TEST_TARGETS, O_FEATURES_KEY, O_LABELS_KEY,
    O_TARGETS_KEY, O_TEST_FEATURES_KEY, O_TEST_LABELS_KEY, O_TEST_TARGETS_KEY, O_REGRESSION,
    O_COUNT
} OptionId;

/* What an option is for: any dataset, class labels only, or regression targets only (the
 * last two exclude each other). */
typedef enum { FOR_ANY, FOR_LABELS, FOR_TARGETS } Purpose;

/* One row per option: parsing, the check that it applies, and the help all come from it.
 * --features means a file for npy and a count for libsvm. */
static const struct {
    const char *name, *value; /* value: NULL for a flag */
    Format formats;
    Purpose purpose;
    const char *help;
} OPTIONS[O_COUNT] = {
    [O_SOURCE] = {"--source", "TEXT", IDX | STREAMED, FOR_ANY, "the root attribute 'source' (default: the input file names)"},
    [O_CLASSES] = {"--classes", "K", STREAMED, FOR_LABELS, "the number of classes (default: largest label + 1, at least 2)"},
    [O_MAP_LABELS] = {"--map-labels", NULL, CSV | NPY, FOR_LABELS, "map the distinct labels, in ascending order, to 0..k-1 (always on for libsvm); attribute label_values keeps them"},
    [O_STANDARDIZE] = {"--standardize", NULL, STREAMED, FOR_ANY, "store /mean and /std of the training rows' features (features stay raw; targets are not standardized)"},
    [O_TEST_FRACTION] = {"--test-fraction", "P", STREAMED, FOR_ANY, "hold out a fraction P of the training file's rows as the test split (no TEST file)"},
    [O_VALIDATION_FRACTION] = {"--validation-fraction", "P", STREAMED, FOR_ANY, "hold out a fraction P of the training file's rows as /validation"},
    [O_SEED] = {"--seed", "S", STREAMED, FOR_ANY, "seed of the hold-out choice (default 1): row i is held out by a hash of (S, i)"},
    [O_HEADER] = {"--header", NULL, CSV, FOR_ANY, "the first row names the columns"},
    [O_NO_HEADER] = {"--no-header", NULL, CSV, FOR_ANY, "the first row is data (default: a header when any non-empty field of it is not a number)"},
    [O_LABEL] = {"--label", "COL", CSV, FOR_LABELS, "the label column: a header name or a 1-based index (default: the last column)"},
    [O_TARGET] = {"--target", "COL[,COL...]", CSV, FOR_TARGETS, "regression: the target columns, header names or 1-based indices, not features; writes float32 /SPLIT/targets, no classes"},
    [O_DELIMITER] = {"--delimiter", "C", CSV, FOR_ANY, "the field delimiter, one character or 'tab' (default ,)"},
    [O_FEATURES] = {"--features", "X.npy|N", NPY | SVM, FOR_ANY, "npy: the features array; libsvm: the feature count (default: the largest index)"},
    [O_LABELS] = {"--labels", "y.npy", NPY, FOR_LABELS, "the labels array"},
    [O_TARGETS] = {"--targets", "t.npy", NPY, FOR_TARGETS, "regression: the targets array, float or integer, (N) or (N, T), instead of --labels"},
    [O_TEST_FEATURES] = {"--test-features", "X.npy", NPY, FOR_ANY, "the test split's features array"},
    [O_TEST_LABELS] = {"--test-labels", "y.npy", NPY, FOR_LABELS, "the test split's labels array"},
    [O_TEST_TARGETS] = {"--test-targets", "t.npy", NPY, FOR_TARGETS, "regression: the test split's targets array"},
    [O_FEATURES_KEY] = {"--features-key", "NAME", NPY, FOR_ANY, ".npz: the features array (default X, else x_train)"},
    [O_LABELS_KEY] = {"--labels-key", "NAME", NPY, FOR_LABELS, ".npz: the labels array (default y, else y_train)"},
    [O_TARGETS_KEY] = {"--targets-key", "NAME", NPY, FOR_TARGETS, ".npz, regression: the targets array (e.g. y)"},
    [O_TEST_FEATURES_KEY] = {"--test-features-key", "NAME", NPY, FOR_ANY, ".npz: the test features (default X_test or x_test, when present)"},
    [O_TEST_LABELS_KEY] = {"--test-labels-key", "NAME", NPY, FOR_LABELS, ".npz: the test labels (default y_test, when present)"},
    [O_TEST_TARGETS_KEY] = {"--test-targets-key", "NAME", NPY, FOR_TARGETS, ".npz, regression: the test targets (default y_test, when present)"},
    [O_REGRESSION] = {"--regression", NULL, SVM, FOR_TARGETS, "the first field of a line is a real-valued target (regression), not a class label"},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: nn-mpi-data [idx] [--source NAME] DIR OUT.h5\n"
            "       nn-mpi-data [idx] [--source NAME] TRAIN_IMAGES TRAIN_LABELS TEST_IMAGES "
            "TEST_LABELS OUT.h5\n"
            "       nn-mpi-data csv TRAIN.csv [TEST.csv] OUT.h5 [options]\n"
            "       nn-mpi-data npy --features X.npy --labels y.npy [--test-features X.npy "
            "--test-labels y.npy] OUT.h5 [options]\n"
            "       nn-mpi-data npy --features X.npy --targets t.npy [--test-features X.npy "
            "--test-targets t.npy] OUT.h5 [options]\n"
            "       nn-mpi-data npy DATA.npz OUT.h5 [options]\n"
            "       nn-mpi-data libsvm TRAIN [TEST] OUT.h5 [options]\n"
            "\n"
            "idx: DIR holds %s, %s, %s and %s, each raw or gzipped (.gz);\n"
            "  writes dataset format 1 (uint8 pixels).\n"
            "csv, npy, libsvm: write dataset format 2 (float32 features, int64 labels),\n"
            "  streaming in bounded memory. Without a TEST file, give --test-fraction.\n"
            "  csv: RFC 4180 (quoted fields may hold delimiters, quotes and newlines); blank\n"
            "    lines skipped; every column but the label is a feature; labels integers.\n"
            "  npy: C-order arrays; features float32/float64/integer/bool, (N, ...) flattened\n"
            "    per row; labels (N) of any integer type.\n"
            "  libsvm: 'label idx:val ...' with 1-based ascending indices, absent values 0,\n"
            "    '#' comments and qid: ignored; labels (integers) mapped in ascending order to\n"
            "    0..k-1 ({-1,+1} -> {0,1}), kept in the attribute label_values.\n"
            "  Regression (train with [model] loss = squared_error): csv --target COL[,COL...],\n"
            "    npy --targets / --targets-key, libsvm --regression write T float32 targets\n"
            "    per row, /SPLIT/targets of shape (N) when T = 1, else (N, T), instead of\n"
            "    labels, and no classes; targets must be finite numbers.\n"
            "  Any bad value, row or token is an error naming file, line and column or token;\n"
            "  exit 1 and no output file.\n"
            "\noptions:\n",
            BASENAMES[0], BASENAMES[1], BASENAMES[2], BASENAMES[3]);
    for (int o = 0; o < O_COUNT; o++) {
        char left[64], where[48] = "";
        snprintf(left, sizeof left, "%s%s%s", OPTIONS[o].name, OPTIONS[o].value ? " " : "",
                 OPTIONS[o].value ? OPTIONS[o].value : "");
        for (int c = 0; COMMANDS[c].name; c++)
            if (OPTIONS[o].formats & COMMANDS[c].format)
                snprintf(where + strlen(where), sizeof where - strlen(where), "%s%s",
                         where[0] ? "," : "", COMMANDS[c].name);
        fprintf(out, "  %-28s [%s] %s\n", left, where, OPTIONS[o].help);
    }
    fprintf(out, "exit status: 0 written; 1 bad input or write failure (OUT.h5 untouched); "
                 "2 bad usage\n");
}

/* DIR/NAME if it exists, else DIR/NAME.gz (the error then names the .gz). */
static void find_in_dir(const char *dir, const char *name, char *path, size_t size)
{
    snprintf(path, size, "%s/%s", dir, name);
    if (access(path, F_OK) != 0) snprintf(path, size, "%s/%s.gz", dir, name);
}

/* The IDX conversion, as before the subcommands. */
static int convert_idx(const char *source, const char **positional, int n)
{
    char err[NN_ERR_LEN];
    char paths[4][4096];
    for (int f = 0; f < 4; f++) {
        if (n == 2)
            find_in_dir(positional[0], BASENAMES[f], paths[f], sizeof paths[f]);
        else
            snprintf(paths[f], sizeof paths[f], "%s", positional[f]);
    }
    const char *out = positional[n - 1];
    NnIdxArray arrays[4] = {{0}};
    const NnIdxLimits limits = {NN_DATASET_MAX_ROWS, NN_DATASET_MAX_FEATURES};
    NnStatus status = NN_OK;
    for (int f = 0; f < 4 && status == NN_OK; f++)
        status = f % 2 == 0 ? nn_idx_read_images(paths[f], &limits, &arrays[f], err)
                            : nn_idx_read_labels(paths[f], &limits, &arrays[f], err);
    char default_source[4200];
    snprintf(default_source, sizeof default_source, "IDX files from %s",
             n == 2 ? positional[0] : "the command line");
    if (status == NN_OK)
        status = nn_dataset_write(out, &arrays[0], &arrays[1], &arrays[2], &arrays[3],
                                  source ? source : default_source, err);
    if (status == NN_OK)
        printf("%s: %lld train and %lld test images of %dx%d\n", out, (long long)arrays[0].count,
               (long long)arrays[2].count, arrays[0].rows, arrays[0].cols);
    else
        fprintf(stderr, "nn-mpi-data: %s\n", err);
    for (int f = 0; f < 4; f++) nn_idx_free(&arrays[f]);
    return status == NN_OK ? 0 : 1;
}

static int bad_usage(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "nn-mpi-data: ");
    fprintf(stderr, fmt, a, b);
    fprintf(stderr, "\n(nn-mpi-data --help lists the commands and options)\n");
    return 2;
}

/* A number option's value within [lo, hi]. */
static int number_value(const char *name, const char *text, double lo, double hi, double *v)
{
    char *end = NULL;
    *v = strtod(text, &end);
    if (!*text || *end || !(*v >= lo && *v <= hi)) {
        char range[96];
        snprintf(range, sizeof range, "%s: expected a number in [%g, %g]", text, lo, hi);
        bad_usage("%s %s", name, range);
        return -1;
    }
    return 0;
}

static void print_summary(const char *out)
{
    /* Read back: what the file holds is what is reported. */
    hid_t file = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) return;
    long long rows[3] = {0, 0, -1}, features = 0, classes = 0, targets = 0;
    const char *names[3] = {"/train/images", "/test/images", "/validation/images"};
    for (int s = 0; s < 3; s++) {
        if (!nn_h5_exists(file, names[s])) continue;
        hid_t d = H5Dopen2(file, names[s], H5P_DEFAULT), sp = d >= 0 ? H5Dget_space(d) : -1;
        hsize_t dims[2] = {0, 0};
        if (sp >= 0) H5Sget_simple_extent_dims(sp, dims, NULL);
        rows[s] = (long long)dims[0];
        features = (long long)dims[1];
        if (sp >= 0) H5Sclose(sp);
        if (d >= 0) H5Dclose(d);
    }
    if (nn_h5_exists(file, "/train/targets")) {
        hid_t d = H5Dopen2(file, "/train/targets", H5P_DEFAULT);
        hid_t sp = d >= 0 ? H5Dget_space(d) : -1;
        hsize_t dims[2] = {0, 1};
        if (sp >= 0 && H5Sget_simple_extent_dims(sp, dims, NULL) == 1) dims[1] = 1;
        targets = (long long)dims[1];
        if (sp >= 0) H5Sclose(sp);
        if (d >= 0) H5Dclose(d);
    }
    int64_t k = 0;
    char err[NN_ERR_LEN];
    if (nn_h5_attr_read_i64(file, "classes", &k, err) == NN_OK) classes = k;
    H5Fclose(file);
    printf("%s: %lld train, %lld test", out, rows[0], rows[1]);
    if (rows[2] >= 0) printf(", %lld validation", rows[2]);
    if (targets)
        printf(" rows of %lld features, %lld target%s\n", features, targets,
               targets == 1 ? "" : "s");
    else
        printf(" rows of %lld features, %lld classes\n", features, classes);
}

int main(int argc, char **argv)
{
    char err[NN_ERR_LEN];
    if (nn_fault_configure(getenv(NN_FAULT_ENV), err) != NN_OK) {
        fprintf(stderr, "nn-mpi-data: %s\n", err);
        return 2;
    }
    nn_writer_init();
    Format format = IDX;
    int first = 1;
    for (int c = 0; argc > 1 && COMMANDS[c].name; c++)
        if (strcmp(argv[1], COMMANDS[c].name) == 0) {
            format = COMMANDS[c].format;
            first = 2;
        }
    const char *value[O_COUNT] = {0};
    const char *positional[8];
    int n = 0;
    for (int i = first; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (argv[i][0] != '-' || argv[i][1] == '\0') {
            if (n == 8) return bad_usage("too many file names%s%s", "", "");
            positional[n++] = argv[i];
            continue;
        }
        int o = 0;
        while (o < O_COUNT && strcmp(argv[i], OPTIONS[o].name) != 0) o++;
        if (o == O_COUNT) return bad_usage("unknown option %s%s", argv[i], "");
        if (!(OPTIONS[o].formats & format))
            return bad_usage("%s does not apply to %s", argv[i],
                             first == 1 ? "IDX files" : argv[1]);
        if (OPTIONS[o].value) {
            if (i + 1 == argc) return bad_usage("%s needs a value (%s)", argv[i], OPTIONS[o].value);
            value[o] = argv[++i];
        } else {
            value[o] = "1";
        }
    }
    /* Class labels or regression targets: the first option given of each kind. */
    int for_labels = -1, for_targets = -1;
    for (int o = O_COUNT - 1; o >= 0; o--) {
        if (value[o] && OPTIONS[o].purpose == FOR_LABELS) for_labels = o;
        if (value[o] && OPTIONS[o].purpose == FOR_TARGETS) for_targets = o;
    }
    if (for_labels >= 0 && for_targets >= 0) {
        char what[256];
        snprintf(what, sizeof what, "%s and %s exclude each other: %s is for class labels, %s "
                 "writes regression targets", OPTIONS[for_labels].name,
                 OPTIONS[for_targets].name, OPTIONS[for_labels].name, OPTIONS[for_targets].name);
        return bad_usage("%s%s", what, "");
    }
    int regression = for_targets >= 0;
    if (format == IDX) {
        if (n != 2 && n != 5) {
            usage(stderr);
            return 2;
        }
        return convert_idx(value[O_SOURCE], positional, n);
    }

    NnWriterOptions wo = {.source = value[O_SOURCE], .seed = 1,
                          .map_labels = value[O_MAP_LABELS] != NULL,
                          .standardize = value[O_STANDARDIZE] != NULL};
    double v;
    if (value[O_CLASSES]) {
        if (number_value("--classes", value[O_CLASSES], 2, 1 << 30, &v) || v != floor(v))
            return 2;
        wo.classes = (int64_t)v;
    }
    if (value[O_TEST_FRACTION]) {
        if (number_value("--test-fraction", value[O_TEST_FRACTION], 0, 1, &v)) return 2;
        wo.test_fraction = v;
    }
    if (value[O_VALIDATION_FRACTION]) {
        if (number_value("--validation-fraction", value[O_VALIDATION_FRACTION], 0, 1, &v))
            return 2;
        wo.validation_fraction = v;
    }
    if (wo.test_fraction + wo.validation_fraction >= 1)
        return bad_usage("--test-fraction and --validation-fraction leave no training rows%s%s",
                         "", "");
    if (value[O_SEED]) {
        char *end = NULL;
        wo.seed = strtoull(value[O_SEED], &end, 10);
        if (!*value[O_SEED] || *end || value[O_SEED][0] == '-')
            return bad_usage("--seed %s: expected an integer >= 0%s", value[O_SEED], "");
    }
    char source[4200];
    const char *out = n ? positional[n - 1] : NULL;
    NnStatus status;
    if (format == CSV || format == SVM) {
        if (n != 2 && n != 3)
            return bad_usage("%s takes TRAIN [TEST] OUT.h5%s", argv[1], "");
        const char *test = n == 3 ? positional[1] : NULL;
        if (test && wo.test_fraction > 0)
            return bad_usage("--test-fraction holds rows out when there is no TEST file%s%s",
                             "", "");
        snprintf(source, sizeof source, "%s%s%s", positional[0], test ? " and " : "",
                 test ? test : "");
        if (!wo.source) wo.source = source;
        if (format == CSV) {
            NnCsvOptions csv = {.header = value[O_HEADER] ? 1 : value[O_NO_HEADER] ? 0 : -1,
                                .label = value[O_LABEL], .targets = value[O_TARGET],
                                .delimiter = ','};
            if (value[O_HEADER] && value[O_NO_HEADER])
                return bad_usage("--header and --no-header exclude each other%s%s", "", "");
            const char *d = value[O_DELIMITER];
            if (d && strcmp(d, "tab") == 0) d = "\t";
            if (d && strcmp(d, "\\t") == 0) d = "\t";
            if (d && (strlen(d) != 1 || d[0] == '"' || d[0] == '\n' || d[0] == '\r'))
                return bad_usage("--delimiter %s: expected one character (not a quote or a "
                                 "line end) or 'tab'%s", d, "");
            if (d) csv.delimiter = d[0];
            status = nn_convert_csv(positional[0], test, out, &csv, &wo, err);
        } else {
            int64_t features = 0;
            if (value[O_FEATURES]) {
                if (number_value("--features", value[O_FEATURES], 1,
                                 (double)NN_DATASET_MAX_FEATURES, &v) || v != floor(v))
                    return 2;
                features = (int64_t)v;
            }
            status = nn_convert_libsvm(positional[0], test, out, features, regression, &wo, err);
        }
    } else {
        /* The targets options fill the labels' places (exclusive, checked above). */
#define EITHER(a, b) (value[a] ? value[a] : value[b])
        NnNpyOptions npy = {.regression = regression, .features = value[O_FEATURES],
                            .labels = EITHER(O_LABELS, O_TARGETS),
                            .test_features = value[O_TEST_FEATURES],
                            .test_labels = EITHER(O_TEST_LABELS, O_TEST_TARGETS),
                            .features_key = value[O_FEATURES_KEY],
                            .labels_key = EITHER(O_LABELS_KEY, O_TARGETS_KEY),
                            .test_features_key = value[O_TEST_FEATURES_KEY],
                            .test_labels_key = EITHER(O_TEST_LABELS_KEY, O_TEST_TARGETS_KEY)};
#undef EITHER
        int arrays = npy.features != NULL;
        if (n == 2 && !arrays && !npy.labels && !npy.test_features && !npy.test_labels) {
            npy.npz = positional[0];
            snprintf(source, sizeof source, "%s", npy.npz);
        } else if (n == 1 && arrays && npy.labels && !npy.features_key && !npy.labels_key &&
                   !npy.test_features_key && !npy.test_labels_key &&
                   !npy.test_features == !npy.test_labels) {
            snprintf(source, sizeof source, "%s and %s", npy.features, npy.labels);
        } else {
            return bad_usage("npy takes --features X.npy --labels y.npy (or --targets t.npy) "
                             "[--test-features X.npy --test-labels y.npy (or --test-targets "
                             "t.npy)] OUT.h5, or DATA.npz OUT.h5 [--*-key NAME]%s%s", "", "");
        }
        if ((npy.test_features || (npy.npz && npy.test_features_key)) && wo.test_fraction > 0)
            return bad_usage("--test-fraction holds rows out when there is no test array%s%s",
                             "", "");
        if (!wo.source) wo.source = source;
        status = nn_convert_npy(&npy, out, &wo, err);
    }
    if (status != NN_OK) {
        fprintf(stderr, "nn-mpi-data: %s\n", err);
        return 1;
    }
    print_summary(out);
    H5close(); /* everything is closed: safe, and what HDF5's exit handler would do */
    return 0;
}
