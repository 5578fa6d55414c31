/* Config: every key parsed, defaults, canonical text round trip, and each kind of error
 * with its file:line message. */
#include <stdlib.h>

#include "nn_test.h"
#include "nnmpi/nn_config.h"

static const char *EVERY_KEY =
    "; every key, none at its default\n"
    "[data]\n"
    "path = /tmp/other.h5\n"
    "train_samples = 1000\n"
    "test_samples = 500\n"
    "validation = 250\n"
    "augment = 3\n"
    "\n"
    "[model]\n"
    "hidden = 300, 100 ,50\n"
    "activation = tanh\n"
    "loss = mse\n"
    "init = xavier\n"
    "dropout = 0.5, 0.25,0\n"
    "max_norm = 3.5\n"
    "[train]\n"
    "epochs = 3\n"
    "batch_size = 100\n"
    "learning_rate = 0.125\n"
    "lr_schedule = cosine\n"
    "lr_step_epochs = 4\n"
    "lr_gamma = 0.5\n"
    "lr_min = 0.001\n"
    "warmup_epochs = 0.5   ; with warmup_steps: refused by nn_config_check, not the parser\n"
    "warmup_steps = 20\n"
    "clip_grad_norm = 1.5\n"
    "momentum = 0.5\n"
    "optimizer = adamw\n"
    "beta1 = 0.8\n"
    "beta2 = 0.99\n"
    "epsilon = 1e-6\n"
    "weight_decay = 0.0001\n"
    "label_smoothing = 0.1\n"
    "seed = 12345678901\n"
    "early_stopping_patience = 4\n"
    "min_delta = 0.001\n"
    "blas_threads = 2\n"
    "reproducible = yes\n"
    "chunk_size = 8\n"
    "[checkpoint]\n"
    "dir = /tmp/ck   ; the old name of [run] dir\n"
    "every_epochs = 2\n"
    "every_steps = 50\n"
    "every_minutes = 2.5\n"
    "keep = 5\n"
    "keep_every_epochs = 10\n"
    "keep_best = yes\n"
    "monitor = validation_accuracy\n"
    "resume = auto\n"
    "signal = usr2\n"
    "grace_seconds = 90\n"
    "time_limit = 3600\n"
    "time_margin = 120\n"
    "[log]\n"
    "every_steps = 10   ; inline comment\n"
    "metrics = /tmp/m.jsonl\n"
    "test = end\n"
    "progress = lines\n";

static const char *EVERY_KEY_CANONICAL =
    "[data]\n"
    "path = /tmp/other.h5\n"
    "train_samples = 1000\n"
    "test_samples = 500\n"
    "validation = 250\n"
    "augment = 3\n"
    "\n[model]\n"
    "hidden = 300, 100, 50\n"
    "activation = tanh\n"
    "loss = mse\n"
    "init = xavier\n"
    "dropout = 0.5, 0.25, 0\n"
    "max_norm = 3.5\n"
    "\n[train]\n"
    "epochs = 3\n"
    "batch_size = 100\n"
    "learning_rate = 0.125\n"
    "lr_schedule = cosine\n"
    "lr_step_epochs = 4\n"
    "lr_gamma = 0.5\n"
    "lr_min = 0.001\n"
    "warmup_epochs = 0.5\n"
    "warmup_steps = 20\n"
    "clip_grad_norm = 1.5\n"
    "momentum = 0.5\n"
    "optimizer = adamw\n"
    "beta1 = 0.8\n"
    "beta2 = 0.99\n"
    "epsilon = 1e-06\n"
    "weight_decay = 0.0001\n"
    "label_smoothing = 0.1\n"
    "seed = 12345678901\n"
    "blas_threads = 2\n"
    "early_stopping_patience = 4\n"
    "min_delta = 0.001\n"
    "reproducible = yes\n"
    "chunk_size = 8\n"
    "\n[run]\n"
    "dir = /tmp/ck\n"
    "\n[checkpoint]\n"
    "every_epochs = 2\n"
    "every_steps = 50\n"
    "every_minutes = 2.5\n"
    "keep = 5\n"
    "keep_every_epochs = 10\n"
    "keep_best = yes\n"
    "monitor = validation_accuracy\n"
    "resume = auto\n"
    "signal = usr2\n"
    "grace_seconds = 90\n"
    "time_limit = 3600\n"
    "time_margin = 120\n"
    "\n[log]\n"
    "every_steps = 10\n"
    "metrics = /tmp/m.jsonl\n"
    "test = end\n"
    "progress = lines\n";

static void test_every_key(void)
{
    NnConfig cfg;
    char err[NN_ERR_LEN] = "";
    nn_config_defaults(&cfg);
    CHECK(nn_config_parse(EVERY_KEY, "every.ini", &cfg, err) == NN_OK);
    CHECK(strcmp(err, "") == 0);
    CHECK(strcmp(cfg.data_path, "/tmp/other.h5") == 0);
    CHECK(cfg.train_samples == 1000 && cfg.test_samples == 500 && cfg.validation == 250);
    CHECK(cfg.hidden.count == 3 && cfg.hidden.values[0] == 300 && cfg.hidden.values[1] == 100 &&
          cfg.hidden.values[2] == 50);
    CHECK(cfg.activation == NN_ACT_TANH && cfg.loss == NN_LOSS_MSE && cfg.init == NN_INIT_XAVIER);
    CHECK(cfg.dropout.count == 3 && cfg.dropout.values[0] == 0.5 &&
          cfg.dropout.values[1] == 0.25 && cfg.dropout.values[2] == 0.0);
    CHECK(nn_config_dropout(&cfg, 0) == 0.5 && nn_config_dropout(&cfg, 2) == 0.0);
    CHECK(cfg.max_norm == 3.5 && cfg.label_smoothing == 0.1);
    CHECK(cfg.epochs == 3 && cfg.batch_size == 100 && cfg.learning_rate == 0.125);
    CHECK(cfg.lr_schedule == NN_LR_COSINE && cfg.lr_step_epochs == 4 && cfg.lr_gamma == 0.5);
    CHECK(cfg.lr_min == 0.001 && cfg.momentum == 0.5 && cfg.weight_decay == 0.0001);
    CHECK(cfg.optimizer == NN_OPTIM_ADAMW && cfg.beta1 == 0.8 && cfg.beta2 == 0.99 &&
          cfg.epsilon == 1e-6);
    CHECK(cfg.augment == 3 && cfg.warmup_epochs == 0.5 && cfg.warmup_steps == 20 &&
          cfg.clip_grad_norm == 1.5);
    CHECK(cfg.seed == 12345678901LL && cfg.blas_threads == 2);
    CHECK(cfg.reproducible == 1 && cfg.chunk_size == 8);
    CHECK(strcmp(cfg.run_dir, "/tmp/ck") == 0);
    CHECK(cfg.early_stopping_patience == 4 && cfg.min_delta == 0.001);
    CHECK(cfg.checkpoint_keep_best == 1 && cfg.monitor == NN_MONITOR_VALIDATION_ACCURACY);
    CHECK(cfg.log_test == NN_LOG_TEST_END);
    CHECK(cfg.progress == NN_PROGRESS_LINES);
    CHECK(cfg.checkpoint_every_epochs == 2 && cfg.checkpoint_every_steps == 50);
    CHECK(cfg.log_every_steps == 10 && strcmp(cfg.metrics_path, "/tmp/m.jsonl") == 0);
    CHECK(cfg.checkpoint_every_minutes == 2.5 && cfg.checkpoint_keep == 5);
    CHECK(cfg.checkpoint_keep_every_epochs == 10 && cfg.resume == NN_RESUME_AUTO);
    CHECK(cfg.stop_signal == NN_SIGNAL_USR2 && cfg.grace_seconds == 90);
    CHECK(cfg.time_limit == 3600 && cfg.time_margin == 120);

    /* The canonical text names every key once; parsing it gives the same config back. */
    char text[8192], again_text[8192];
    size_t need = nn_config_format(&cfg, text, sizeof text);
    CHECK(need == strlen(text));
    CHECK(strcmp(text, EVERY_KEY_CANONICAL) == 0);
    if (strcmp(text, EVERY_KEY_CANONICAL) != 0) fprintf(stderr, "got:\n%s", text);
    NnConfig again;
    nn_config_defaults(&again);
    CHECK(nn_config_parse(text, "canonical", &again, err) == NN_OK);
    nn_config_format(&again, again_text, sizeof again_text);
    CHECK(strcmp(text, again_text) == 0);
    /* A short buffer is truncated but still reports the full length. */
    char small[16];
    CHECK(nn_config_format(&cfg, small, sizeof small) == need && strlen(small) == 15);
}

static void test_defaults(void)
{
    NnConfig cfg;
    nn_config_defaults(&cfg);
    CHECK(strcmp(cfg.data_path, "data/mnist.h5") == 0);
    CHECK(cfg.train_samples == 0 && cfg.test_samples == 0 && cfg.validation == 0);
    CHECK(cfg.hidden.count == 1 && cfg.hidden.values[0] == 128);
    CHECK(cfg.activation == NN_ACT_RELU && cfg.loss == NN_LOSS_CROSS_ENTROPY);
    CHECK(cfg.init == NN_INIT_AUTO && cfg.epochs == 10 && cfg.batch_size == 64);
    CHECK(cfg.learning_rate == 0.05 && cfg.lr_schedule == NN_LR_CONSTANT);
    CHECK(cfg.momentum == 0.9 && cfg.weight_decay == 0.0 && cfg.seed == 1);
    CHECK(cfg.optimizer == NN_OPTIM_SGD && cfg.beta1 == 0.9 && cfg.beta2 == 0.999 &&
          cfg.epsilon == 1e-8);
    CHECK(cfg.blas_threads == 1 && strcmp(cfg.run_dir, "runs") == 0);
    CHECK(cfg.early_stopping_patience == 0 && cfg.min_delta == 0);
    CHECK(cfg.checkpoint_keep_best == 0 && cfg.monitor == NN_MONITOR_VALIDATION_LOSS);
    CHECK(cfg.log_test == NN_LOG_TEST_EVERY_EPOCH);
    CHECK(cfg.progress == NN_PROGRESS_AUTO);
    CHECK(cfg.reproducible == NN_REPRODUCIBLE_AUTO && cfg.chunk_size == NN_CHUNK_AUTO);
    CHECK(cfg.checkpoint_every_epochs == 1 && cfg.checkpoint_every_steps == 0);
    CHECK(cfg.log_every_steps == 100 && cfg.metrics_path[0] == '\0');
    CHECK(cfg.checkpoint_every_minutes == 0 && cfg.checkpoint_keep == 3);
    CHECK(cfg.checkpoint_keep_every_epochs == 0 && cfg.resume == NN_RESUME_NO);
    CHECK(cfg.stop_signal == NN_SIGNAL_NONE && cfg.grace_seconds == 30);
    CHECK(cfg.time_limit == 0 && cfg.time_margin == 60);
    CHECK(cfg.dropout.count == 1 && cfg.dropout.values[0] == 0.0);
    CHECK(nn_config_dropout(&cfg, 0) == 0.0);
    CHECK(cfg.max_norm == 0.0 && cfg.label_smoothing == 0.0);

    /* An empty file and an empty hidden list are fine. */
    char err[NN_ERR_LEN];
    CHECK(nn_config_parse("", "empty.ini", &cfg, err) == NN_OK);
    CHECK(nn_config_parse("[model]\nhidden =\n", "h.ini", &cfg, err) == NN_OK);
    CHECK(cfg.hidden.count == 0);
}

typedef struct {
    const char *text;
    const char *message; /* the whole expected error message */
} BadConfig;

static const BadConfig BAD[] = {
    {"[train]\nbatch_size = 0\n", "bad.ini:2: [train] batch_size = 0: must be >= 1"},
    {"[train]\nepochs = 2000000\n", "bad.ini:2: [train] epochs = 2000000: must be <= 1000000"},
    {"[train]\nepochs = 3.5\n", "bad.ini:2: [train] epochs = 3.5: expected an integer"},
    {"[train]\nepochs = 99999999999999999999\n",
     "bad.ini:2: [train] epochs = 99999999999999999999: expected an integer"},
    {"[train]\nlearning_rate = fast\n",
     "bad.ini:2: [train] learning_rate = fast: expected a finite number"},
    {"[train]\nlearning_rate = nan\n",
     "bad.ini:2: [train] learning_rate = nan: expected a finite number"},
    {"[train]\nmomentum = -0.1\n", "bad.ini:2: [train] momentum = -0.1: must be >= 0"},
    {"[train]\noptimizer = lbfgs\n",
     "bad.ini:2: [train] optimizer = lbfgs: expected one of sgd, adam, adamw"},
    {"[train]\nbeta2 = 1\n", "bad.ini:2: [train] beta2 = 1: must be < 1"},
    {"[train]\nepsilon = 0\n", "bad.ini:2: [train] epsilon = 0: must be >= 1e-30"},
    {"; comment\n\n[train]\nbach_size = 5\n",
     "bad.ini:4: unknown key 'bach_size' in section [train] (did you mean 'batch_size'?)"},
    {"[train]\nzzz = 5\n", "bad.ini:2: unknown key 'zzz' in section [train]"},
    {"[trian]\nepochs = 5\n", "bad.ini:1: unknown section [trian]"},
    {"[data]\npath = a.h5\n[extra]\n", "bad.ini:3: unknown section [extra]"},
    {"epochs = 5\n", "bad.ini:1: key 'epochs' outside any section"},
    {"[model]\nactivation = softmax\n",
     "bad.ini:2: [model] activation = softmax: expected one of sigmoid, relu, tanh"},
    {"[checkpoint]\nsignal = kill\n",
     "bad.ini:2: [checkpoint] signal = kill: expected one of none, hup, int, quit, usr2, xcpu"},
    {"[model]\nloss = hinge\n",
     "bad.ini:2: [model] loss = hinge: expected one of cross_entropy, mse, squared_error"},
    {"[model]\nhidden = 128, x\n", "bad.ini:2: [model] hidden = 128, x: 'x' is not an integer"},
    {"[model]\nhidden = 128,,64\n",
     "bad.ini:2: [model] hidden = 128,,64: expected a comma-separated list of integers"},
    {"[model]\nhidden = 128, 0\n", "bad.ini:2: [model] hidden = 128, 0: must be >= 1"},
    {"[model]\nhidden = 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1\n",
     "bad.ini:2: [model] hidden = 1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1: at most 16 entries"},
    {"[data]\npath =\n", "bad.ini:2: [data] path = : must not be empty"},
    /* Rates: 1 itself is out of range. */
    {"[model]\ndropout = 0.5, 1\n", "bad.ini:2: [model] dropout = 0.5, 1: must be < 1"},
    {"[model]\ndropout = -0.1\n", "bad.ini:2: [model] dropout = -0.1: must be >= 0"},
    {"[model]\ndropout = 0.5,half\n",
     "bad.ini:2: [model] dropout = 0.5,half: 'half' is not a number"},
    {"[model]\ndropout = 0.5,,0.2\n",
     "bad.ini:2: [model] dropout = 0.5,,0.2: expected a comma-separated list of numbers"},
    {"[train]\nlabel_smoothing = 1\n", "bad.ini:2: [train] label_smoothing = 1: must be < 1"},
    {"[model]\nmax_norm = -2\n", "bad.ini:2: [model] max_norm = -2: must be >= 0"},
    /* Text values must read back the same from the canonical config (found by fuzzing). */
    {"[run]\ndir =;x\n", "bad.ini:2: [run] dir = ;x: ';' (it starts a comment) cannot be part of a value (character 1)"},
    {"[data]\nvalidation = -1\n", "bad.ini:2: [data] validation = -1: must be >= 0"},
    {"[data]\nvalidation = 2000000000000\n",
     "bad.ini:2: [data] validation = 2000000000000: must be <= 1000000000000"},
    {"[data]\nvalidation = 0.2\n", "bad.ini:2: [data] validation = 0.2: expected an integer"},
    {"[train]\nepochs = 2\nepochs = 3\n", "bad.ini:3: [train] epochs is set twice"},
    {"[run]\ndir = a\n[checkpoint]\ndir = b\n", "bad.ini:4: [checkpoint] dir is set twice"},
    {"[train]\nthis line has no equals sign\n",
     "bad.ini:2: syntax error: expected '[section]' or 'key = value'"},
    /* The first error is the one reported, whatever its kind. */
    {"[train]\nepochs = 0\nnot a pair\n", "bad.ini:2: [train] epochs = 0: must be >= 1"},
    {"[train]\nnot a pair\nepochs = 0\n",
     "bad.ini:2: syntax error: expected '[section]' or 'key = value'"},
};

static void test_errors(void)
{
    for (size_t i = 0; i < sizeof BAD / sizeof BAD[0]; i++) {
        NnConfig cfg;
        char err[NN_ERR_LEN] = "";
        nn_config_defaults(&cfg);
        NnStatus status = nn_config_parse(BAD[i].text, "bad.ini", &cfg, err);
        CHECK(status == NN_ERR);
        if (strcmp(err, BAD[i].message) != 0) {
            fprintf(stderr, "case %zu: expected \"%s\"\n          got      \"%s\"\n", i,
                    BAD[i].message, err);
            nn_test_failures++;
        }
    }
    /* An over-long line is reported with its number, not silently split. */
    char text[1200];
    snprintf(text, sizeof text, "[data]\npath = /%0900d\n", 7);
    NnConfig cfg;
    char err[NN_ERR_LEN];
    nn_config_defaults(&cfg);
    CHECK(nn_config_parse(text, "long.ini", &cfg, err) == NN_ERR);
    CHECK_CONTAINS(err, "long.ini:2: line longer than");
}

/* Checks between keys (nn_config_check), after every layer is applied. */
static void test_check(void)
{
    static const struct {
        const char *sets[3];
        const char *message; /* NULL: accepted */
    } CASES[] = {
        {{"model.hidden=64,32", "model.dropout=0.5"}, NULL},
        {{"model.hidden=64,32", "model.dropout=0.5,0.2"}, NULL},
        {{"model.hidden=64,32", "model.dropout=0.5,0.2,0.1"},
         "[model] dropout = 0.5, 0.2, 0.1 gives 3 rates but [model] hidden has 2 layers: give "
         "one rate for all, or one per hidden layer"},
        {{"model.hidden=", "model.dropout=0.5"},
         "[model] dropout = 0.5: the model has no hidden layers to drop units of ([model] "
         "hidden is empty)"},
        {{"model.hidden=", "model.dropout=0"}, NULL},
        {{"model.hidden=", "model.max_norm=3"},
         "[model] max_norm applies to hidden units, but [model] hidden is empty"},
        {{"model.loss=mse", "train.label_smoothing=0.1"},
         "[train] label_smoothing = 0.1 needs [model] loss = cross_entropy (it is mse)"},
        {{"model.loss=squared_error", "train.label_smoothing=0.05"},
         "[train] label_smoothing = 0.05 needs [model] loss = cross_entropy (it is "
         "squared_error)"},
        {{"train.label_smoothing=0.1"}, NULL},
    };
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        NnConfig cfg;
        char err[NN_ERR_LEN] = "";
        nn_config_defaults(&cfg);
        for (int k = 0; k < 3 && CASES[i].sets[k]; k++)
            CHECK(nn_config_set(&cfg, CASES[i].sets[k], err) == NN_OK);
        NnStatus status = nn_config_check(&cfg, err);
        if (CASES[i].message) {
            CHECK(status == NN_ERR);
            CHECK_STREQ(err, CASES[i].message);
        } else {
            CHECK(status == NN_OK);
        }
    }
    NnConfig cfg;
    char err[NN_ERR_LEN];
    nn_config_defaults(&cfg);
    CHECK(nn_config_check(&cfg, err) == NN_OK); /* the defaults pass */
}

static void test_set(void)
{
    NnConfig cfg;
    char err[NN_ERR_LEN];
    nn_config_defaults(&cfg);
    CHECK(nn_config_set(&cfg, "train.batch_size=256", err) == NN_OK && cfg.batch_size == 256);
    CHECK(nn_config_set(&cfg, "model.hidden=64,32", err) == NN_OK && cfg.hidden.count == 2);
    CHECK(nn_config_set(&cfg, "log.metrics=", err) == NN_OK && cfg.metrics_path[0] == '\0');
    CHECK(nn_config_set(&cfg, "data.validation=5000", err) == NN_OK && cfg.validation == 5000);
    CHECK(nn_config_set(&cfg, "run.dir= spaced ", err) == NN_ERR);
    CHECK_CONTAINS(err, "must not begin or end with a space");
    CHECK(nn_config_set(&cfg, "run.dir=a\nb", err) == NN_ERR);
    CHECK_CONTAINS(err, "a control character cannot be part of a value");
    CHECK(nn_config_set(&cfg, "data.path=x.y.h5", err) == NN_OK &&
          strcmp(cfg.data_path, "x.y.h5") == 0);
    CHECK(nn_config_set(&cfg, "train.batch_size=0", err) == NN_ERR);
    CHECK(strcmp(err, "--set train.batch_size=0: must be >= 1") == 0);
    CHECK(nn_config_set(&cfg, "train.batchsize=5", err) == NN_ERR);
    CHECK(strcmp(err, "--set train.batchsize=5: unknown key 'batchsize' in section [train] "
                      "(did you mean 'batch_size'?)") == 0);
    CHECK(nn_config_set(&cfg, "nope.epochs=5", err) == NN_ERR);
    CHECK(strcmp(err, "--set nope.epochs=5: unknown section [nope]") == 0);
    CHECK(nn_config_set(&cfg, "epochs=5", err) == NN_ERR);
    CHECK(strcmp(err, "--set epochs=5: expected section.key=value") == 0);
}

static void test_load(void)
{
    NnConfig cfg;
    char err[NN_ERR_LEN];
    CHECK(nn_config_load("/nonexistent/dir/x.ini", &cfg, err) == NN_ERR);
    CHECK(strcmp(err, "/nonexistent/dir/x.ini: cannot open: No such file or directory") == 0);

    char path[] = "/tmp/nn_test_config_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *f = fdopen(fd, "w");
    fputs("[train]\nepochs = 7\n[model]\nhidden = 32\nactivation = sigmoid\n", f);
    fclose(f);
    CHECK(nn_config_load(path, &cfg, err) == NN_OK);
    CHECK(cfg.epochs == 7 && cfg.hidden.values[0] == 32 && cfg.activation == NN_ACT_SIGMOID);
    CHECK(cfg.batch_size == 64); /* untouched keys keep their defaults */
    f = fopen(path, "w");
    fputs("[train]\n\n\nepochs = -1\n", f);
    fclose(f);
    CHECK(nn_config_load(path, &cfg, err) == NN_ERR);
    char expected[NN_ERR_LEN];
    snprintf(expected, sizeof expected, "%s:4: [train] epochs = -1: must be >= 1", path);
    CHECK(strcmp(err, expected) == 0);
    remove(path);
}

/* chunk_size = auto and reproducible = auto: their values and how they print. */
static void test_auto_reproducible(void)
{
    NnConfig cfg;
    nn_config_defaults(&cfg);
    /* The batch in 1, 2, 4, ... equal chunks, the fewest of at most 64 samples. */
    static const int batch_chunk[][2] = {{1, 1},    {64, 64},   {65, 33},  {100, 50},
                                         {128, 64}, {129, 33}, {256, 64}, {1000, 63}};
    for (size_t i = 0; i < sizeof batch_chunk / sizeof batch_chunk[0]; i++) {
        cfg.batch_size = batch_chunk[i][0];
        CHECK(nn_config_chunk(&cfg) == batch_chunk[i][1]);
    }
    /* Exact sums while every rank gets a chunk: 2 chunks of 64 in a batch of 128. */
    cfg.batch_size = 128;
    CHECK(nn_config_exact(&cfg, 1) && nn_config_exact(&cfg, 2) && !nn_config_exact(&cfg, 3));
    cfg.chunk_size = 16; /* 8 chunks */
    CHECK(nn_config_exact(&cfg, 8) && !nn_config_exact(&cfg, 9));
    cfg.reproducible = 1;
    CHECK(nn_config_exact(&cfg, 64));
    cfg.reproducible = 0;
    CHECK(!nn_config_exact(&cfg, 1));
    /* Resolved, the canonical text holds the values, which parse back. */
    char err[NN_ERR_LEN], value[64];
    nn_config_defaults(&cfg);
    CHECK(nn_config_set(&cfg, "train.batch_size=100", err) == NN_OK);
    CHECK(nn_config_value(&cfg, "train", "chunk_size", value, sizeof value, err) == NN_OK &&
          strcmp(value, "auto") == 0);
    CHECK(nn_config_value(&cfg, "train", "reproducible", value, sizeof value, err) == NN_OK &&
          strcmp(value, "auto") == 0);
    nn_config_resolve(&cfg, 3);
    CHECK(cfg.reproducible == 0 && cfg.chunk_size == 50);
    nn_config_defaults(&cfg);
    CHECK(nn_config_set(&cfg, "train.batch_size=100", err) == NN_OK);
    nn_config_resolve(&cfg, 2);
    CHECK(cfg.reproducible == 1 && cfg.chunk_size == 50);
    CHECK(nn_config_value(&cfg, "train", "chunk_size", value, sizeof value, err) == NN_OK &&
          strcmp(value, "50") == 0);
    CHECK(nn_config_set(&cfg, "train.chunk_size=auto", err) == NN_OK &&
          cfg.chunk_size == NN_CHUNK_AUTO);
    CHECK(nn_config_set(&cfg, "train.chunk_size=0", err) == NN_ERR); /* auto is spelt out */
}

int main(void)
{
    test_auto_reproducible();
    test_every_key();
    test_check();
    test_defaults();
    test_errors();
    test_set();
    test_load();
    return nn_test_finish("test_config");
}
