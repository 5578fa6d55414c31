/* The run's configuration: INI sections [data] [model] [train] [run] [checkpoint] [log].
 * Every key is declared once, in the table in nn_config.c, with its type, default and
 * bounds; unknown sections and keys, bad numbers and out-of-range values are errors. */
#ifndef NNMPI_NN_CONFIG_H
#define NNMPI_NN_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "nnmpi/nn_status.h"

#define NN_PATH_LEN 1024
#define NN_MAX_HIDDEN 16

typedef enum { NN_ACT_SIGMOID, NN_ACT_RELU, NN_ACT_TANH } NnActivation;
/* cross_entropy: softmax outputs; mse: sigmoid outputs and squared error against the one-hot
 * label (classification, the tutorial's); squared_error: linear outputs and squared error
 * against float targets (regression). */
typedef enum { NN_LOSS_CROSS_ENTROPY, NN_LOSS_MSE, NN_LOSS_SQUARED_ERROR } NnLoss;
typedef enum { NN_INIT_AUTO, NN_INIT_XAVIER, NN_INIT_HE } NnInit;
typedef enum { NN_LR_CONSTANT, NN_LR_STEP, NN_LR_COSINE } NnLrSchedule;
/* sgd: SGD with momentum; adam, adamw: PyTorch's torch.optim.Adam (weight decay as an L2
 * term added to the gradient) and torch.optim.AdamW (decoupled weight decay). nn_optim.h. */
typedef enum { NN_OPTIM_SGD, NN_OPTIM_ADAM, NN_OPTIM_ADAMW } NnOptimizer;
typedef enum { NN_RESUME_NO, NN_RESUME_AUTO } NnResume;
/* The validation metric that the best checkpoint and early stopping follow. */
typedef enum { NN_MONITOR_VALIDATION_LOSS, NN_MONITOR_VALIDATION_ACCURACY } NnMonitor;
typedef enum { NN_LOG_TEST_EVERY_EPOCH, NN_LOG_TEST_END } NnLogTest;
/* How rank 0 shows training progress (nn_progress.h). */
typedef enum {
    NN_PROGRESS_AUTO,  /* bar when the log is a terminal, else lines */
    NN_PROGRESS_BAR,
    NN_PROGRESS_LINES,
    NN_PROGRESS_NONE   /* neither: only the epoch lines */
} NnProgressMode;
/* A signal that stops a run at a checkpoint, besides SIGTERM and SIGUSR1. */
typedef enum {
    NN_SIGNAL_NONE,
    NN_SIGNAL_HUP,
    NN_SIGNAL_INT,
    NN_SIGNAL_QUIT,
    NN_SIGNAL_USR2,
    NN_SIGNAL_XCPU
} NnExtraSignal;

typedef struct {
    int count;
    int values[NN_MAX_HIDDEN];
} NnIntList;

typedef struct {
    int count;
    double values[NN_MAX_HIDDEN];
} NnRealList;

typedef struct {
    /* [data] */
    char data_path[NN_PATH_LEN];
    int64_t train_samples; /* use the first N training rows; 0 = all */
    int64_t test_samples;  /* use the first N test rows; 0 = all */
    int64_t validation;    /* training rows held out as the validation split; 0 = none (or the
                              file's own /validation split, see nn_splits.h) */
    int augment;           /* training images shift by up to this many pixels (nn_augment.h);
                              0: off */
    /* [model] */
    NnIntList hidden;
    NnActivation activation;
    NnLoss loss;
    NnInit init;
    NnRealList dropout; /* per hidden layer, or one rate for all; 0: off (nn_config_dropout) */
    double max_norm;    /* largest norm of a hidden unit's incoming weights; 0: off */
    /* [train] */
    int epochs;
    int batch_size; /* global: summed over all ranks */
    double learning_rate;
    NnLrSchedule lr_schedule;
    int lr_step_epochs;
    double lr_gamma;
    double lr_min;
    double warmup_epochs;  /* linear warm-up over this many epochs (nn_lr_at); 0: off */
    int64_t warmup_steps;  /* or over this many steps; at most one of the two is set */
    double clip_grad_norm; /* largest global L2 norm of the mean gradient; 0: off */
    double momentum;
    NnOptimizer optimizer;
    double beta1, beta2, epsilon; /* adam, adamw */
    double weight_decay;
    double label_smoothing; /* cross_entropy: epsilon of the target (1-eps) onehot + eps/K */
    int64_t seed;
    int early_stopping_patience; /* epochs without improvement before stopping; 0: off */
    double min_delta;            /* least change that counts as an improvement */
    int blas_threads; /* BLAS threads per rank */
    int reproducible; /* 1: the same bits at any rank count (see nn_trainer.h); 0: not;
                         NN_REPRODUCIBLE_AUTO until nn_config_resolve */
    int chunk_size;   /* samples per indivisible piece of a batch in reproducible mode;
                         NN_CHUNK_AUTO until nn_config_resolve */
    /* [run] ([checkpoint] dir is its old name) */
    char run_dir[NN_PATH_LEN]; /* directory of runs (nn_rundir.h); empty: no checkpoints */
    /* [checkpoint] */
    int checkpoint_every_epochs;      /* 0: only at the end of training */
    int checkpoint_every_steps;       /* 0: off */
    double checkpoint_every_minutes;  /* 0: off */
    int checkpoint_keep;              /* newest checkpoints kept; 0: all */
    int checkpoint_keep_every_epochs; /* also keep every M-th epoch's; 0: none */
    int checkpoint_keep_best;         /* 1: also keep the best checkpoint (best.h5) */
    NnMonitor monitor;
    NnResume resume;                  /* auto: continue from the newest valid checkpoint */
    NnExtraSignal stop_signal;
    int grace_seconds;   /* after a stop signal, exit at once if not done by then; 0: wait */
    double time_limit;   /* seconds of wall time for this process; 0: none */
    double time_margin;  /* stop this long before the time limit or SLURM_JOB_END_TIME */
    /* [log] */
    int log_every_steps;
    char metrics_path[NN_PATH_LEN]; /* empty: metrics.jsonl in the run's directory */
    NnLogTest log_test;
    NnProgressMode progress;
} NnConfig;

/* Fills cfg with every key's default. */
void nn_config_defaults(NnConfig *cfg);

/* Parses INI text over cfg (which should hold defaults or an earlier layer). source names
 * the text in messages, e.g. "configs/mnist.ini:12: [train] batch_size = 0: must be >= 1". */
NnStatus nn_config_parse(const char *text, const char *source, NnConfig *cfg,
                         char err[NN_ERR_LEN]);

/* Reads the whole file at path into a NUL-terminated buffer (caller frees *text). */
NnStatus nn_config_read_file(const char *path, char **text, char err[NN_ERR_LEN]);

/* Defaults, then the file at path. */
NnStatus nn_config_load(const char *path, NnConfig *cfg, char err[NN_ERR_LEN]);

/* The checks between keys, once every layer (file, --set) is applied: rates for dropout
 * fit [model] hidden, label smoothing needs cross_entropy, and the like. A failure is a
 * config error (the message names the keys). */
NnStatus nn_config_check(const NnConfig *cfg, char err[NN_ERR_LEN]);

/* The dropout rate of hidden layer `layer` (0-based): [model] dropout's one rate, or its
 * entry for the layer; 0 when dropout is off. */
double nn_config_dropout(const NnConfig *cfg, int layer);

/* Applies one command-line override "section.key=value". */
NnStatus nn_config_set(NnConfig *cfg, const char *assignment, char err[NN_ERR_LEN]);

/* [train] reproducible = auto and chunk_size = auto. The auto chunk is the batch cut into
 * 1, 2, 4, ... equal pieces (the last may be short), the fewest of at most
 * NN_CHUNK_AUTO_MAX samples: 64 for a batch of 128, 50 for 100. Auto reproducibility is
 * on when every rank gets at least one chunk of a batch, where its exact sums cost little
 * (README, "Bitwise reproducibility"), and off with more ranks than chunks, where ranks
 * would wait. */
enum { NN_REPRODUCIBLE_AUTO = 2, NN_CHUNK_AUTO = 0, NN_CHUNK_AUTO_MAX = 64 };

/* cfg's chunk size, the auto one worked out. */
int nn_config_chunk(const NnConfig *cfg);

/* Whether a run of cfg on `ranks` ranks sums exactly (reproducible mode). */
int nn_config_exact(const NnConfig *cfg, int ranks);

/* Replaces the autos of reproducible and chunk_size by their values for `ranks` ranks, as
 * the trainer and the evaluation need them (and the checkpoint's config records them). */
void nn_config_resolve(NnConfig *cfg, int ranks);

/* Formats the value of key [section] name as it would appear in an INI file. */
NnStatus nn_config_value(const NnConfig *cfg, const char *section, const char *name, char *out,
                         size_t size, char err[NN_ERR_LEN]);

/* Writes every key of cfg as INI text that nn_config_parse reads back to the same cfg.
 * Returns the length it needed (like snprintf); text is always NUL-terminated. */
size_t nn_config_format(const NnConfig *cfg, char *text, size_t size);

/* Prints each key with its type, default, bounds and meaning (for --help). */
void nn_config_print_keys(FILE *out);

/* One table per enumeration, {name, value} pairs ending with {NULL, 0}: the one place that
 * spells its values, for parsing, printing, help, checkpoints and logs alike. Adding a value
 * to an enumeration adds one line to its table. */
typedef struct {
    const char *name;
    int value;
} NnEnumName;

extern const NnEnumName nn_activation_names[], nn_loss_names[], nn_init_names[],
    nn_lr_schedule_names[], nn_optimizer_names[], nn_resume_names[], nn_monitor_names[],
    nn_log_test_names[], nn_progress_names[], nn_signal_names[], nn_yes_no_names[],
    nn_reproducible_names[], nn_chunk_names[];

/* The name of value in table; "?" when it has none. */
const char *nn_enum_name(const NnEnumName *table, int value);

/* The value named name in table; -1 when there is none. */
int nn_enum_value(const NnEnumName *table, const char *name);

/* "a, b, c": the table's names, for messages. */
void nn_enum_list(const NnEnumName *table, char *out, size_t size);

/* Names of enum values, as written in the INI file. */
const char *nn_activation_name(NnActivation a);
const char *nn_loss_name(NnLoss l);

#endif
