#include "nnmpi/nn_config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <string.h>

#include "nnmpi/nn_atomic_file.h"

/* KEY_FRACTION and KEY_FRACTION_LIST: numbers in [min, max), max itself excluded (rates). */
typedef enum {
    KEY_INT,
    KEY_I64,
    KEY_REAL,
    KEY_TEXT,
    KEY_CHOICE,
    KEY_INT_LIST,
    KEY_FRACTION,
    KEY_FRACTION_LIST
} KeyType;

typedef struct {
    const char *section;
    const char *name;
    KeyType type;
    size_t offset;            /* of the field in NnConfig */
    const char *default_text; /* parsed by the same code as file values */
    double min, max;          /* numbers and list entries: inclusive; text: min length */
    const NnEnumName *choices; /* KEY_CHOICE: the enumeration's table */
    const char *help;
} ConfigKey;

static bool below_max(const ConfigKey *k)
{
    return k->type == KEY_FRACTION || k->type == KEY_FRACTION_LIST;
}

/* ---- enumerations ---- */

const NnEnumName nn_activation_names[] = {
    {"sigmoid", NN_ACT_SIGMOID}, {"relu", NN_ACT_RELU}, {"tanh", NN_ACT_TANH}, {NULL, 0}};
const NnEnumName nn_loss_names[] = {{"cross_entropy", NN_LOSS_CROSS_ENTROPY},
                                    {"mse", NN_LOSS_MSE},
                                    {"squared_error", NN_LOSS_SQUARED_ERROR},
                                    {NULL, 0}};
const NnEnumName nn_init_names[] = {
    {"auto", NN_INIT_AUTO}, {"xavier", NN_INIT_XAVIER}, {"he", NN_INIT_HE}, {NULL, 0}};
const NnEnumName nn_lr_schedule_names[] = {
    {"constant", NN_LR_CONSTANT}, {"step", NN_LR_STEP}, {"cosine", NN_LR_COSINE}, {NULL, 0}};
const NnEnumName nn_optimizer_names[] = {
    {"sgd", NN_OPTIM_SGD}, {"adam", NN_OPTIM_ADAM}, {"adamw", NN_OPTIM_ADAMW}, {NULL, 0}};
const NnEnumName nn_resume_names[] = {{"no", NN_RESUME_NO}, {"auto", NN_RESUME_AUTO}, {NULL, 0}};
const NnEnumName nn_monitor_names[] = {{"validation_loss", NN_MONITOR_VALIDATION_LOSS},
                                       {"validation_accuracy", NN_MONITOR_VALIDATION_ACCURACY},
                                       {NULL, 0}};
const NnEnumName nn_log_test_names[] = {
    {"every_epoch", NN_LOG_TEST_EVERY_EPOCH}, {"end", NN_LOG_TEST_END}, {NULL, 0}};
const NnEnumName nn_progress_names[] = {{"auto", NN_PROGRESS_AUTO},
                                        {"bar", NN_PROGRESS_BAR},
                                        {"lines", NN_PROGRESS_LINES},
                                        {"none", NN_PROGRESS_NONE},
                                        {NULL, 0}};
const NnEnumName nn_signal_names[] = {{"none", NN_SIGNAL_NONE}, {"hup", NN_SIGNAL_HUP},
                                      {"int", NN_SIGNAL_INT},   {"quit", NN_SIGNAL_QUIT},
                                      {"usr2", NN_SIGNAL_USR2}, {"xcpu", NN_SIGNAL_XCPU},
                                      {NULL, 0}};
const NnEnumName nn_yes_no_names[] = {{"no", 0}, {"yes", 1}, {NULL, 0}};
const NnEnumName nn_reproducible_names[] = {
    {"no", 0}, {"yes", 1}, {"auto", NN_REPRODUCIBLE_AUTO}, {NULL, 0}};
const NnEnumName nn_chunk_names[] = {{"auto", NN_CHUNK_AUTO}, {NULL, 0}};

const char *nn_enum_name(const NnEnumName *table, int value)
{
    for (const NnEnumName *e = table; e->name; e++)
        if (e->value == value) return e->name;
    return "?";
}

int nn_enum_value(const NnEnumName *table, const char *name)
{
    for (const NnEnumName *e = table; e->name; e++)
        if (strcmp(e->name, name) == 0) return e->value;
    return -1;
}

void nn_enum_list(const NnEnumName *table, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (const NnEnumName *e = table; e->name && used < size; e++)
        used += (size_t)snprintf(out + used, size - used, "%s%s", e == table ? "" : ", ", e->name);
}

const char *nn_activation_name(NnActivation a)
{
    return nn_enum_name(nn_activation_names, (int)a);
}

const char *nn_loss_name(NnLoss l)
{
    return nn_enum_name(nn_loss_names, (int)l);
}

#define FIELD(f) offsetof(NnConfig, f)

static const ConfigKey KEYS[] = {
    {"data", "path", KEY_TEXT, FIELD(data_path), "data/mnist.h5", 1, 0, NULL,
     "HDF5 dataset file (relative paths start at the working directory)"},
    {"data", "train_samples", KEY_I64, FIELD(train_samples), "0", 0, 1e12, NULL,
     "use only the first N training rows (0 = all)"},
    {"data", "test_samples", KEY_I64, FIELD(test_samples), "0", 0, 1e12, NULL,
     "use only the first N test rows (0 = all)"},
    {"data", "validation", KEY_I64, FIELD(validation), "0", 0, 1e12, NULL,
     "hold out N training samples as a validation split (chosen from the seed), or 0"},
    {"data", "augment", KEY_INT, FIELD(augment), "0", 0, 255, NULL,
     "shift each training image by a random (dx, dy) of at most this many pixels each way, "
     "drawn from the seed, the epoch and the sample, zero fill (0 = off; never in evaluation)"},

    {"model", "hidden", KEY_INT_LIST, FIELD(hidden), "128", 1, 65536, NULL,
     "hidden layer sizes, comma separated, any depth up to 16 (empty = none)"},
    {"model", "activation", KEY_CHOICE, FIELD(activation), "relu", 0, 0, nn_activation_names,
     "activation of the hidden layers"},
    {"model", "loss", KEY_CHOICE, FIELD(loss), "cross_entropy", 0, 0,
     nn_loss_names,
     "cross_entropy: softmax outputs; mse: sigmoid outputs, loss 1/2 sum (a - y)^2 against "
     "the one-hot label; squared_error: regression, linear outputs, loss 1/2 sum (a - t)^2 "
     "against the float targets"},
    {"model", "init", KEY_CHOICE, FIELD(init), "auto", 0, 0, nn_init_names,
     "weight init: xavier U(+-sqrt(6/(in+out))), he U(+-sqrt(6/in)); auto = he for relu"},
    {"model", "dropout", KEY_FRACTION_LIST, FIELD(dropout), "0", 0, 1, NULL,
     "dropout rate of the hidden layers' units in training: one rate, or one per hidden "
     "layer, comma separated (0 = off; inverted dropout, none in evaluation)"},
    {"model", "max_norm", KEY_REAL, FIELD(max_norm), "0", 0, 1e6, NULL,
     "after each update, scale each hidden unit's incoming weights down to this norm when "
     "above it (0 = off)"},

    {"train", "epochs", KEY_INT, FIELD(epochs), "10", 1, 1e6, NULL,
     "number of passes over the training set"},
    {"train", "batch_size", KEY_INT, FIELD(batch_size), "64", 1, 1 << 24, NULL,
     "global mini-batch size, split across the ranks"},
    {"train", "learning_rate", KEY_REAL, FIELD(learning_rate), "0.05", 0, 1e6, NULL,
     "initial learning rate"},
    {"train", "lr_schedule", KEY_CHOICE, FIELD(lr_schedule), "constant", 0, 0,
     nn_lr_schedule_names, "learning-rate schedule over the whole run"},
    {"train", "lr_step_epochs", KEY_INT, FIELD(lr_step_epochs), "10", 1, 1e6, NULL,
     "step schedule: multiply the rate by lr_gamma every this many epochs"},
    {"train", "lr_gamma", KEY_REAL, FIELD(lr_gamma), "0.1", 0, 1, NULL,
     "step schedule: the factor"},
    {"train", "lr_min", KEY_REAL, FIELD(lr_min), "0", 0, 1e6, NULL,
     "cosine schedule: the rate reached at the last step"},
    {"train", "warmup_epochs", KEY_REAL, FIELD(warmup_epochs), "0", 0, 1e6, NULL,
     "raise the rate linearly from learning_rate/W to the schedule's over the first W steps, "
     "W = this many epochs' steps (0 = off; or give warmup_steps)"},
    {"train", "warmup_steps", KEY_I64, FIELD(warmup_steps), "0", 0, 1e12, NULL,
     "the warm-up's length W in steps instead (0 = off)"},
    {"train", "clip_grad_norm", KEY_REAL, FIELD(clip_grad_norm), "0", 0, 1e12, NULL,
     "scale the mean gradient by c / (norm + 1e-6) when its global L2 norm exceeds c "
     "(0 = off)"},
    {"train", "momentum", KEY_REAL, FIELD(momentum), "0.9", 0, 0.9999, NULL,
     "SGD momentum (0 = plain SGD)"},
    {"train", "optimizer", KEY_CHOICE, FIELD(optimizer), "sgd", 0, 0, nn_optimizer_names,
     "sgd: SGD with momentum; adam: Adam as torch.optim.Adam (weight_decay adds an L2 term to "
     "the gradient); adamw: AdamW as torch.optim.AdamW (weight_decay decoupled)"},
    {"train", "beta1", KEY_FRACTION, FIELD(beta1), "0.9", 0, 1, NULL,
     "adam, adamw: decay rate of the gradient's running mean"},
    {"train", "beta2", KEY_FRACTION, FIELD(beta2), "0.999", 0, 1, NULL,
     "adam, adamw: decay rate of the squared gradient's running mean"},
    {"train", "epsilon", KEY_REAL, FIELD(epsilon), "1e-8", 1e-30, 1, NULL,
     "adam, adamw: added to the root of the squared gradient's mean, after bias correction"},
    {"train", "weight_decay", KEY_REAL, FIELD(weight_decay), "0", 0, 1, NULL,
     "weight decay of the weights (not the biases): an L2 term added to the gradient with sgd "
     "and adam, w *= 1 - learning_rate * weight_decay each step with adamw"},
    {"train", "label_smoothing", KEY_FRACTION, FIELD(label_smoothing), "0", 0, 1, NULL,
     "cross_entropy: train against (1 - e) onehot + e/classes; evaluation losses stay plain "
     "cross-entropy"},
    {"train", "seed", KEY_I64, FIELD(seed), "1", 0, 9e15, NULL,
     "seeds the weights and the sample order"},
    {"train", "blas_threads", KEY_INT, FIELD(blas_threads), "1", 1, 256, NULL,
     "BLAS threads per rank (keep 1 when ranks fill the cores)"},
    {"train", "early_stopping_patience", KEY_INT, FIELD(early_stopping_patience), "0", 0, 1e6,
     NULL, "stop when [checkpoint] monitor has not improved for this many epochs (0 = off)"},
    {"train", "min_delta", KEY_REAL, FIELD(min_delta), "0", 0, 1e6, NULL,
     "early stopping: the least change of the monitored metric that counts as improvement"},
    {"train", "reproducible", KEY_CHOICE, FIELD(reproducible), "auto", 0, 0,
     nn_reproducible_names,
     "yes: bitwise the same results at any number of ranks (exact gradient sums); auto: yes "
     "when every rank gets a chunk of each batch (ranks <= batch_size / chunk_size), else no"},
    {"train", "chunk_size", KEY_INT, FIELD(chunk_size), "auto", 1, 65536, nn_chunk_names,
     "reproducible mode: samples per piece of a batch; a rank computes whole pieces; auto: "
     "the batch cut in 1, 2, 4, ... equal pieces of at most 64"},

    {"run", "dir", KEY_TEXT, FIELD(run_dir), "runs", 0, 0, NULL,
     "directory of runs: each run writes its checkpoints, metrics and config into a "
     "version_N subdirectory of it; created if missing (empty = no checkpoints)"},
    {"checkpoint", "every_epochs", KEY_INT, FIELD(checkpoint_every_epochs), "1", 0, 1e6, NULL,
     "write a checkpoint every N epochs (0 = only at the end of training)"},
    {"checkpoint", "every_steps", KEY_INT, FIELD(checkpoint_every_steps), "0", 0, 1e9, NULL,
     "also write one every N steps (0 = off)"},
    {"checkpoint", "every_minutes", KEY_REAL, FIELD(checkpoint_every_minutes), "0", 0, 1e6, NULL,
     "also write one when this many minutes have passed since the last (0 = off)"},
    {"checkpoint", "keep", KEY_INT, FIELD(checkpoint_keep), "3", 0, 1e9, NULL,
     "keep the newest N checkpoints, delete older ones (0 = keep all)"},
    {"checkpoint", "keep_every_epochs", KEY_INT, FIELD(checkpoint_keep_every_epochs), "0", 0,
     1e6, NULL, "also keep the checkpoint at the end of every M-th epoch (0 = none)"},
    {"checkpoint", "keep_best", KEY_CHOICE, FIELD(checkpoint_keep_best), "no", 0, 0, nn_yes_no_names,
     "yes: also keep the checkpoint with the best monitored validation metric (best.h5)"},
    {"checkpoint", "monitor", KEY_CHOICE, FIELD(monitor), "validation_loss", 0, 0,
     nn_monitor_names, "the validation metric that keep_best and early stopping follow"},
    {"checkpoint", "resume", KEY_CHOICE, FIELD(resume), "no", 0, 0, nn_resume_names,
     "auto: continue from the newest valid checkpoint in dir, if any (as --resume auto)"},
    {"checkpoint", "signal", KEY_CHOICE, FIELD(stop_signal), "none", 0, 0,
     nn_signal_names,
     "another signal that, like TERM and USR1, stops the run at a checkpoint"},
    {"checkpoint", "grace_seconds", KEY_INT, FIELD(grace_seconds), "30", 0, 86400, NULL,
     "after a stop signal, exit at once unless stopped within this time (0 = no limit)"},
    {"checkpoint", "time_limit", KEY_REAL, FIELD(time_limit), "0", 0, 1e9, NULL,
     "seconds of wall time for the run; it checkpoints and stops before (0 = none)"},
    {"checkpoint", "time_margin", KEY_REAL, FIELD(time_margin), "60", 0, 1e6, NULL,
     "stop this many seconds before time_limit or SLURM_JOB_END_TIME"},

    {"log", "every_steps", KEY_INT, FIELD(log_every_steps), "100", 1, 1e9, NULL,
     "print the mean training loss every N steps"},
    {"log", "metrics", KEY_TEXT, FIELD(metrics_path), "", 0, 0, NULL,
     "JSON Lines metrics file written by rank 0, appended to (empty = metrics.jsonl in "
     "the run's directory)"},
    {"log", "test", KEY_CHOICE, FIELD(log_test), "every_epoch", 0, 0, nn_log_test_names,
     "evaluate the test split after every epoch, or only at the end of training"},
    {"log", "progress", KEY_CHOICE, FIELD(progress), "auto", 0, 0, nn_progress_names,
     "training progress on rank 0's output: bar, a live line redrawn in place; lines, "
     "the every_steps loss lines with samples/s and ETAs; auto, bar on a terminal, else "
     "lines; none, only the epoch lines"},
};

#define N_KEYS (sizeof KEYS / sizeof KEYS[0])

static const char *const SECTIONS[] = {"data", "model", "train", "run", "checkpoint", "log"};
#define N_SECTIONS (sizeof SECTIONS / sizeof SECTIONS[0])

/* ---- values ---- */

static bool parse_integer(const char *text, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (end == text || *end != '\0' || errno == ERANGE) return false;
    *out = v;
    return true;
}

/* The shortest of %.15g, %.16g, %.17g that reads back as exactly v. */
static void format_real(double v, char *out, size_t size)
{
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(out, size, "%.*g", digits, v);
        if (strtod(out, NULL) == v) return;
    }
}

/* Checks v against the key's bounds; fills problem and returns false when outside. */
static bool check_bounds(const ConfigKey *k, double v, char *problem, size_t size)
{
    char bound[32];
    bool above = below_max(k) ? v >= k->max : v > k->max;
    if (v < k->min || above) {
        format_real(v < k->min ? k->min : k->max, bound, sizeof bound);
        snprintf(problem, size, "must be %s %s",
                 v < k->min ? ">=" : below_max(k) ? "<" : "<=", bound);
        return false;
    }
    return true;
}

/* A finite number, all of text. */
static bool parse_real(const char *text, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || errno == ERANGE || !isfinite(v)) return false;
    *out = v;
    return true;
}

/* A comma-separated list of integers or numbers (empty: none), each within the key's
 * bounds, into values[NN_MAX_HIDDEN]; returns the count, or -1 after filling problem. */
static int parse_list(const ConfigKey *k, const char *text, bool integers, double *values,
                      char *problem, size_t size)
{
    int count = 0;
    const char *p = text;
    while (isspace((unsigned char)*p)) p++;
    if (*p == '\0') return 0;
    for (;;) {
        char item[64];
        size_t n = strcspn(p, ",");
        while (n > 0 && isspace((unsigned char)p[n - 1])) n--;
        if (n == 0 || n >= sizeof item) {
            snprintf(problem, size, "expected a comma-separated list of %s",
                     integers ? "integers" : "numbers");
            return -1;
        }
        memcpy(item, p, n);
        item[n] = '\0';
        long long iv;
        double v;
        if (integers ? !parse_integer(item, &iv) : !parse_real(item, &v)) {
            snprintf(problem, size, "'%s' is not %s", item, integers ? "an integer" : "a number");
            return -1;
        }
        if (integers) v = (double)iv;
        if (!check_bounds(k, v, problem, size)) return -1;
        if (count == NN_MAX_HIDDEN) {
            snprintf(problem, size, "at most %d entries", NN_MAX_HIDDEN);
            return -1;
        }
        values[count++] = v;
        p += strcspn(p, ",");
        if (*p == '\0') break;
        p++;
        while (isspace((unsigned char)*p)) p++;
    }
    return count;
}

/* Parses text as the value of key k into cfg. On failure fills problem (the reason only). */
/* Whether a text value reads back the same from the canonical config (nn_config_format),
 * which runs and checkpoints store: an INI line cannot hold a ';' (an inline comment
 * starts there), a control character (a newline ends the line) or whitespace at either end
 * (stripped). */
static bool text_round_trips(const char *text, char *problem, size_t size)
{
    size_t len = strlen(text);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == ';' || c < 0x20 || c == 0x7f) {
            snprintf(problem, size, "%s cannot be part of a value (character %zu)",
                     c == ';' ? "';' (it starts a comment)" : "a control character", i + 1);
            return false;
        }
    }
    if (len > 0 && (isspace((unsigned char)text[0]) || isspace((unsigned char)text[len - 1]))) {
        snprintf(problem, size, "must not begin or end with a space");
        return false;
    }
    return true;
}

static bool parse_value(const ConfigKey *k, const char *text, NnConfig *cfg, char *problem,
                        size_t size)
{
    void *field = (char *)cfg + k->offset;
    long long iv;
    switch (k->type) {
    case KEY_INT:
    case KEY_I64:
        if (k->type == KEY_INT && k->choices && nn_enum_value(k->choices, text) >= 0) {
            *(int *)field = nn_enum_value(k->choices, text); /* a named value: auto */
            return true;
        }
        if (!parse_integer(text, &iv)) {
            snprintf(problem, size, "expected an integer");
            return false;
        }
        if (!check_bounds(k, (double)iv, problem, size)) return false;
        if (k->type == KEY_INT)
            *(int *)field = (int)iv;
        else
            *(int64_t *)field = iv;
        return true;
    case KEY_REAL:
    case KEY_FRACTION: {
        double v;
        if (!parse_real(text, &v)) {
            snprintf(problem, size, "expected a finite number");
            return false;
        }
        if (!check_bounds(k, v, problem, size)) return false;
        *(double *)field = v;
        return true;
    }
    case KEY_TEXT:
        if (strlen(text) < (size_t)k->min) {
            snprintf(problem, size, "must not be empty");
            return false;
        }
        if (strlen(text) >= NN_PATH_LEN) {
            snprintf(problem, size, "longer than %d characters", NN_PATH_LEN - 1);
            return false;
        }
        if (!text_round_trips(text, problem, size)) return false;
        strcpy((char *)field, text);
        return true;
    case KEY_CHOICE: {
        int value = nn_enum_value(k->choices, text);
        if (value < 0) {
            char list[160];
            nn_enum_list(k->choices, list, sizeof list);
            snprintf(problem, size, "expected one of %s", list);
            return false;
        }
        *(int *)field = value;
        return true;
    }
    case KEY_INT_LIST:
    case KEY_FRACTION_LIST: {
        double values[NN_MAX_HIDDEN];
        int count = parse_list(k, text, k->type == KEY_INT_LIST, values, problem, size);
        if (count < 0) return false;
        if (k->type == KEY_INT_LIST) {
            NnIntList *list = field;
            list->count = count;
            for (int i = 0; i < count; i++) list->values[i] = (int)values[i];
        } else {
            NnRealList *list = field;
            list->count = count;
            memcpy(list->values, values, sizeof(double) * (size_t)count);
        }
        return true;
    }
    }
    NN_ASSERT(!"unknown key type");
    return false;
}

static void format_value(const ConfigKey *k, const NnConfig *cfg, char *out, size_t size)
{
    const void *field = (const char *)cfg + k->offset;
    switch (k->type) {
    case KEY_INT:
        if (k->choices && strcmp(nn_enum_name(k->choices, *(const int *)field), "?") != 0)
            snprintf(out, size, "%s", nn_enum_name(k->choices, *(const int *)field));
        else
            snprintf(out, size, "%d", *(const int *)field);
        return;
    case KEY_I64: snprintf(out, size, "%lld", (long long)*(const int64_t *)field); return;
    case KEY_REAL:
    case KEY_FRACTION: format_real(*(const double *)field, out, size); return;
    case KEY_TEXT: snprintf(out, size, "%s", (const char *)field); return;
    case KEY_CHOICE: snprintf(out, size, "%s", nn_enum_name(k->choices, *(const int *)field)); return;
    case KEY_INT_LIST: {
        const NnIntList *list = field;
        size_t used = 0;
        out[0] = '\0';
        for (int i = 0; i < list->count && used < size; i++)
            used += (size_t)snprintf(out + used, size - used, "%s%d", i ? ", " : "",
                                     list->values[i]);
        return;
    }
    case KEY_FRACTION_LIST: {
        const NnRealList *list = field;
        size_t used = 0;
        out[0] = '\0';
        for (int i = 0; i < list->count && used < size; i++) {
            char v[32];
            format_real(list->values[i], v, sizeof v);
            used += (size_t)snprintf(out + used, size - used, "%s%s", i ? ", " : "", v);
        }
        return;
    }
    }
}

/* ---- lookup ---- */

static bool known_section(const char *section)
{
    for (size_t i = 0; i < N_SECTIONS; i++)
        if (strcmp(SECTIONS[i], section) == 0) return true;
    return false;
}

/* Keys renamed since: old section, old name, then the key's name now. */
static const char *const OLD_NAMES[][4] = {{"checkpoint", "dir", "run", "dir"}};

static int find_key(const char *section, const char *name)
{
    for (size_t i = 0; i < N_KEYS; i++)
        if (strcmp(KEYS[i].section, section) == 0 && strcmp(KEYS[i].name, name) == 0)
            return (int)i;
    for (size_t i = 0; i < sizeof OLD_NAMES / sizeof OLD_NAMES[0]; i++)
        if (strcmp(OLD_NAMES[i][0], section) == 0 && strcmp(OLD_NAMES[i][1], name) == 0)
            return find_key(OLD_NAMES[i][2], OLD_NAMES[i][3]);
    return -1;
}

/* Edit distance, capped: enough to suggest a key for a typo. */
static int edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63) return 99;
    int row[64];
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (row[j] + 1 < best) best = row[j] + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* Describes an unknown key, suggesting the nearest known key of the same section. */
static void unknown_key(const char *section, const char *name, char *problem, size_t size)
{
    const char *best = NULL;
    int best_distance = 3; /* suggest only close matches */
    for (size_t i = 0; i < N_KEYS; i++) {
        if (strcmp(KEYS[i].section, section) != 0) continue;
        int d = edit_distance(name, KEYS[i].name);
        if (d < best_distance) {
            best_distance = d;
            best = KEYS[i].name;
        }
    }
    if (best)
        snprintf(problem, size, "unknown key '%s' in section [%s] (did you mean '%s'?)", name,
                 section, best);
    else
        snprintf(problem, size, "unknown key '%s' in section [%s]", name, section);
}

/* ---- parsing ---- */

typedef struct {
    NnConfig *cfg;
    const char *text; /* the rest of the INI text */
    int line;         /* number of the line inih is working on */
    int problem_line; /* 0: no problem yet */
    char problem[NN_ERR_LEN];
    bool seen[N_KEYS];
} ParseState;

__attribute__((format(printf, 2, 3))) static void note_problem(ParseState *st,
                                                               const char *fmt, ...)
{
    if (st->problem_line) return; /* the first problem is the one reported */
    st->problem_line = st->line;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(st->problem, sizeof st->problem, fmt, ap);
    va_end(ap);
}

/* inih's line reader: hands out one line at a time so that the handler knows its line
 * number, reports over-long lines and unknown (even empty) sections. */
static char *read_line(char *buf, int size, void *user)
{
    ParseState *st = user;
    if (*st->text == '\0') return NULL;
    size_t n = strcspn(st->text, "\n");
    st->line++;
    if (n + 3 > (size_t)size) {
        note_problem(st, "line longer than %d characters", size - 3);
    }
    size_t copy = n + 1 < (size_t)size ? n : (size_t)size - 2;
    memcpy(buf, st->text, copy);
    buf[copy] = '\n';
    buf[copy + 1] = '\0';
    st->text += n + (st->text[n] == '\n');

    const char *p = buf;
    while (isspace((unsigned char)*p)) p++;
    if (*p == '[') {
        size_t len = strcspn(p + 1, "]");
        char section[128];
        snprintf(section, sizeof section, "%.*s", (int)len, p + 1);
        if (p[1 + len] == ']' && !known_section(section))
            note_problem(st, "unknown section [%s]", section);
    }
    return buf;
}

static int handle_pair(void *user, const char *section, const char *name, const char *value)
{
    ParseState *st = user;
    if (section[0] == '\0') {
        note_problem(st, "key '%s' outside any section", name);
        return 0;
    }
    if (!known_section(section)) return 0; /* already reported at the section line */
    int index = find_key(section, name);
    if (index < 0) {
        char problem[NN_ERR_LEN];
        unknown_key(section, name, problem, sizeof problem);
        note_problem(st, "%s", problem);
        return 0;
    }
    if (st->seen[index]) {
        note_problem(st, "[%s] %s is set twice", section, name);
        return 0;
    }
    st->seen[index] = true;
    char reason[256];
    if (!parse_value(&KEYS[index], value, st->cfg, reason, sizeof reason)) {
        note_problem(st, "[%s] %s = %s: %s", section, name, value, reason);
        return 0;
    }
    return 1;
}

void nn_config_defaults(NnConfig *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    for (size_t i = 0; i < N_KEYS; i++) {
        char problem[256];
        bool ok = parse_value(&KEYS[i], KEYS[i].default_text, cfg, problem, sizeof problem);
        NN_ASSERT(ok);
    }
}

NnStatus nn_config_parse(const char *text, const char *source, NnConfig *cfg,
                         char err[NN_ERR_LEN])
{
    ParseState st = {.cfg = cfg, .text = text};
    int first_error = ini_parse_stream(read_line, &st, handle_pair, &st);
    if (first_error < 0) return nn_fail(err, "%s: cannot parse (out of memory)", source);
    if (first_error > 0 && (st.problem_line == 0 || first_error < st.problem_line))
        return nn_fail(err, "%s:%d: syntax error: expected '[section]' or 'key = value'",
                       source, first_error);
    if (st.problem_line)
        return nn_fail(err, "%s:%d: %s", source, st.problem_line, st.problem);
    return NN_OK;
}

NnStatus nn_config_read_file(const char *path, char **text, char err[NN_ERR_LEN])
{
    *text = NULL;
    if (nn_file_check_regular(path, NULL, err) != NN_OK) return NN_ERR;
    FILE *f = fopen(path, "rb");
    if (!f) return nn_fail(err, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    NnStatus status = NN_OK;
    for (;;) {
        if (!buf) {
            status = nn_fail(err, "%s: out of memory", path);
            break;
        }
        len += fread(buf + len, 1, cap - len - 1, f);
        if (ferror(f)) {
            status = nn_fail(err, "%s: read error: %s", path, strerror(errno));
            break;
        }
        if (feof(f)) break;
        if (len + 1 == cap) {
            char *bigger = cap < (1u << 24) ? realloc(buf, cap *= 2) : NULL;
            if (!bigger) free(buf);
            buf = bigger;
        }
    }
    fclose(f);
    if (status != NN_OK) {
        free(buf);
        return status;
    }
    if (memchr(buf, '\0', len)) {
        free(buf);
        return nn_fail(err, "%s: not a text file (contains NUL bytes)", path);
    }
    buf[len] = '\0';
    *text = buf;
    return NN_OK;
}

NnStatus nn_config_load(const char *path, NnConfig *cfg, char err[NN_ERR_LEN])
{
    char *text;
    nn_config_defaults(cfg);
    if (nn_config_read_file(path, &text, err) != NN_OK) return NN_ERR;
    NnStatus status = nn_config_parse(text, path, cfg, err);
    free(text);
    return status;
}

NnStatus nn_config_set(NnConfig *cfg, const char *assignment, char err[NN_ERR_LEN])
{
    const char *dot = strchr(assignment, '.');
    const char *eq = strchr(assignment, '=');
    if (!dot || !eq || dot > eq)
        return nn_fail(err, "--set %s: expected section.key=value", assignment);
    char section[128], name[128];
    snprintf(section, sizeof section, "%.*s", (int)(dot - assignment), assignment);
    snprintf(name, sizeof name, "%.*s", (int)(eq - dot - 1), dot + 1);
    const char *value = eq + 1;
    if (!known_section(section))
        return nn_fail(err, "--set %s: unknown section [%s]", assignment, section);
    int index = find_key(section, name);
    if (index < 0) {
        char problem[NN_ERR_LEN];
        unknown_key(section, name, problem, sizeof problem);
        return nn_fail(err, "--set %s: %s", assignment, problem);
    }
    char reason[256];
    if (!parse_value(&KEYS[index], value, cfg, reason, sizeof reason))
        return nn_fail(err, "--set %s: %s", assignment, reason);
    return NN_OK;
}

double nn_config_dropout(const NnConfig *cfg, int layer)
{
    const NnRealList *d = &cfg->dropout;
    NN_ASSERT(layer >= 0 && layer < cfg->hidden.count);
    if (d->count == 0) return 0.0;
    return d->count == 1 ? d->values[0] : d->values[layer];
}

int nn_config_chunk(const NnConfig *cfg)
{
    if (cfg->chunk_size != NN_CHUNK_AUTO) return cfg->chunk_size;
    int64_t pieces = 1;
    while ((cfg->batch_size + pieces - 1) / pieces > NN_CHUNK_AUTO_MAX) pieces *= 2;
    return (int)((cfg->batch_size + pieces - 1) / pieces);
}

int nn_config_exact(const NnConfig *cfg, int ranks)
{
    if (cfg->reproducible != NN_REPRODUCIBLE_AUTO) return cfg->reproducible;
    int chunk = nn_config_chunk(cfg);
    return ranks <= (cfg->batch_size + chunk - 1) / chunk;
}

void nn_config_resolve(NnConfig *cfg, int ranks)
{
    cfg->reproducible = nn_config_exact(cfg, ranks);
    cfg->chunk_size = nn_config_chunk(cfg);
}

NnStatus nn_config_check(const NnConfig *cfg, char err[NN_ERR_LEN])
{
    char text[NN_PATH_LEN];
    const NnRealList *d = &cfg->dropout;
    int hidden = cfg->hidden.count, dropout = 0;
    for (int i = 0; i < d->count; i++) dropout |= d->values[i] > 0.0;
    format_value(&KEYS[find_key("model", "dropout")], cfg, text, sizeof text);
    if (d->count > 1 && d->count != hidden)
        return nn_fail(err, "[model] dropout = %s gives %d rates but [model] hidden has %d "
                            "layers: give one rate for all, or one per hidden layer",
                       text, d->count, hidden);
    if (dropout && hidden == 0)
        return nn_fail(err, "[model] dropout = %s: the model has no hidden layers to drop "
                            "units of ([model] hidden is empty)",
                       text);
    if (cfg->max_norm > 0.0 && hidden == 0)
        return nn_fail(err, "[model] max_norm applies to hidden units, but [model] hidden is "
                            "empty");
    if (cfg->label_smoothing > 0.0 && cfg->loss != NN_LOSS_CROSS_ENTROPY) {
        format_real(cfg->label_smoothing, text, sizeof text);
        return nn_fail(err, "[train] label_smoothing = %s needs [model] loss = cross_entropy "
                            "(it is %s)",
                       text, nn_loss_name(cfg->loss));
    }
    if (cfg->warmup_epochs > 0 && cfg->warmup_steps > 0) {
        format_real(cfg->warmup_epochs, text, sizeof text);
        return nn_fail(err, "[train] warmup_epochs = %s and warmup_steps = %lld: give one of "
                            "them",
                       text, (long long)cfg->warmup_steps);
    }
    return NN_OK;
}

NnStatus nn_config_value(const NnConfig *cfg, const char *section, const char *name, char *out,
                         size_t size, char err[NN_ERR_LEN])
{
    int index = find_key(section, name);
    if (index < 0) return nn_fail(err, "no key [%s] %s", section, name);
    format_value(&KEYS[index], cfg, out, size);
    return NN_OK;
}

/* Where the next part of nn_config_format's text goes: NULL when text is NULL (measuring
 * only; NULL + 0 is undefined behaviour) or full. */
static char *format_at(char *text, size_t size, size_t used)
{
    return text && used < size ? text + used : NULL;
}

size_t nn_config_format(const NnConfig *cfg, char *text, size_t size)
{
    size_t used = 0;
    char value[NN_PATH_LEN + 64];
    const char *section = "";
    if (size) text[0] = '\0';
    for (size_t i = 0; i < N_KEYS; i++) {
        const ConfigKey *k = &KEYS[i];
        if (strcmp(section, k->section) != 0) {
            section = k->section;
            used += (size_t)snprintf(format_at(text, size, used),
                                     used < size ? size - used : 0, "%s[%s]\n",
                                     i ? "\n" : "", section);
        }
        format_value(k, cfg, value, sizeof value);
        used += (size_t)snprintf(format_at(text, size, used),
                                 used < size ? size - used : 0, "%s = %s\n", k->name, value);
    }
    return used;
}

void nn_config_print_keys(FILE *out)
{
    static const char *const TYPE_NAMES[] = {"integer", "integer",      "number", "text",
                                             "choice",  "integer list", "number", "number list"};
    for (size_t i = 0; i < N_KEYS; i++) {
        const ConfigKey *k = &KEYS[i];
        fprintf(out, "  [%s] %s (%s, default '%s'", k->section, k->name, TYPE_NAMES[k->type],
                k->default_text);
        if (k->type == KEY_CHOICE) {
            char list[160];
            nn_enum_list(k->choices, list, sizeof list);
            fprintf(out, ", one of %s", list);
        }
        if (k->type != KEY_TEXT && k->type != KEY_CHOICE) {
            char lo[32], hi[32];
            format_real(k->min, lo, sizeof lo);
            format_real(k->max, hi, sizeof hi);
            fprintf(out, ", %s..%s", lo, hi);
            if (below_max(k)) fprintf(out, ", %s excluded", hi);
        }
        fprintf(out, ")\n      %s\n", k->help);
    }
}

