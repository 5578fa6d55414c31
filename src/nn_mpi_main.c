/* nn-mpi: data-parallel training of a feed-forward network over MPI ranks.
 *   nn-mpi CONFIG [--set section.key=value ...] [--resume CHECKPOINT|auto]
 *                 [--new-run | --run-name NAME]
 *   nn-mpi --inspect CHECKPOINT
 * Exit status: 0 done; 1 the run failed (data, checkpoint, diverged); 2 bad usage or config,
 * or the run refused to start (its directory is in use or holds another run, a resume would
 * change a fixed setting);
 * 75 stopped by a signal or the time limit after writing a checkpoint; 76 stopped by a
 * signal without a new checkpoint. */
#include <cblas.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nnmpi/nn_checkpoint.h"
#include "nnmpi/nn_comm.h"
#include "nnmpi/nn_config.h"
#include "nnmpi/nn_fault.h"
#include "nnmpi/nn_h5.h"
#include "nnmpi/nn_hash.h"
#include "nnmpi/nn_run.h"
#include "nnmpi/nn_rundir.h"
#include "nnmpi/nn_stop.h"

enum { EXIT_RUN_FAILED = 1, EXIT_USAGE = 2 };

#define MAX_SETS 256

typedef struct {
    const char *config_path;
    const char *resume;  /* a checkpoint, or "auto" */
    const char *inspect; /* a checkpoint to describe */
    const char *run_name;
    const char *sets[MAX_SETS];
    int n_sets;
    int help, version, new_run;
} Args;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: nn-mpi CONFIG [--set section.key=value ...] [--resume CHECKPOINT|auto]\n"
            "                     [--new-run | --run-name NAME]\n"
            "       nn-mpi --inspect CHECKPOINT\n"
            "       nn-mpi --help | --version\n"
            "Trains the network described by the INI file CONFIG; run it under mpirun or srun.\n"
            "  --set section.key=value   override one config key (repeatable)\n"
            "  --resume CHECKPOINT       continue the run saved in CHECKPOINT\n"
            "  --resume auto             continue the newest run in [run] dir whose fixed\n"
            "                            settings match, or start one if there is none\n"
            "  --new-run                 start a new run in [run] dir even though it holds\n"
            "                            others (a fresh start there is refused otherwise)\n"
            "  --run-name NAME           the run lives in DIR/NAME instead of a new\n"
            "                            DIR/version_N: a fresh start makes it, --resume\n"
            "                            auto continues it (the Slurm scripts name each job's)\n"
            "  --inspect CHECKPOINT      validate a checkpoint and describe it\n"
            "SIGTERM and SIGUSR1 (and [checkpoint] signal) stop a run at the next step with a\n"
            "checkpoint; a second signal (2 s or more later) stops it at once.\n"
            "Each run writes into DIR/version_N of [run] dir: checkpoints, metrics.jsonl,\n"
            "config.ini; one live run per directory (DIR/lock).\n"
            "Exit status: 0 done, 1 the run failed, 2 bad usage or config or a refused start,\n"
            "75 stopped with a checkpoint (resume to continue), 76 stopped without a new\n"
            "checkpoint.\n"
            "Config keys:\n");
    nn_config_print_keys(out);
}

static NnStatus parse_args(int argc, char **argv, Args *a, char err[NN_ERR_LEN])
{
    memset(a, 0, sizeof *a);
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            a->help = 1;
        } else if (strcmp(arg, "--version") == 0) {
            a->version = 1;
        } else if (strcmp(arg, "--new-run") == 0) {
            a->new_run = 1;
        } else if (strcmp(arg, "--set") == 0 || strcmp(arg, "--resume") == 0 ||
                   strcmp(arg, "--inspect") == 0 || strcmp(arg, "--run-name") == 0) {
            if (i + 1 == argc) return nn_fail(err, "%s needs a value", arg);
            if (strcmp(arg, "--run-name") == 0) {
                a->run_name = argv[++i];
                if (nn_rundir_check_name(a->run_name, err) != NN_OK) return NN_ERR;
            } else if (arg[2] == 'r') {
                a->resume = argv[++i];
            } else if (arg[2] == 'i') {
                a->inspect = argv[++i];
            } else {
                if (a->n_sets == MAX_SETS) return nn_fail(err, "too many --set options");
                a->sets[a->n_sets++] = argv[++i];
            }
        } else if (arg[0] == '-') {
            return nn_fail(err, "unknown option %s (see --help)", arg);
        } else if (a->config_path) {
            return nn_fail(err, "more than one config file: %s and %s", a->config_path, arg);
        } else {
            a->config_path = arg;
        }
    }
    if (!a->help && !a->version && !a->inspect && !a->config_path)
        return nn_fail(err, "no config file given (see --help)");
    if (a->new_run && a->resume)
        return nn_fail(err, "--new-run starts a run and --resume continues one: give one");
    if (a->new_run && a->run_name)
        return nn_fail(err, "--new-run makes a version_N and --run-name names the run: give one");
    return NN_OK;
}

/* Rank 0 reads the config file and every rank receives its text, so that all ranks parse
 * the same bytes. Collective; the status is agreed. On failure *code is the exit status it
 * means: EXIT_USAGE for the file, EXIT_RUN_FAILED for memory. */
static NnStatus share_config_text(MPI_Comm comm, const char *path, char **text, int *code,
                                  char err[NN_ERR_LEN])
{
    int rank;
    long long len = -1;
    NN_MPI_CHECK(MPI_Comm_rank(comm, &rank));
    *text = NULL;
    *code = EXIT_USAGE;
    NnStatus status = NN_OK;
    if (rank == 0) {
        status = nn_config_read_file(path, text, err);
        if (status == NN_OK) len = (long long)strlen(*text);
    }
    status = nn_comm_agree(comm, status, err);
    if (status != NN_OK) return status;
    *code = EXIT_RUN_FAILED;
    NN_MPI_CHECK(MPI_Bcast(&len, 1, MPI_LONG_LONG, 0, comm));
    if (rank != 0) *text = malloc((size_t)len + 1);
    *text = nn_fault_alloc(NN_STAGE_CONFIG, *text);
    if (!*text) status = nn_fail(err, "out of memory for the config text (%lld bytes)", len + 1);
    status = nn_comm_agree(comm, status, err);
    if (status != NN_OK) {
        free(*text);
        *text = NULL;
        return status;
    }
    NN_MPI_CHECK(MPI_Bcast(*text, (int)len + 1, MPI_CHAR, 0, comm));
    return NN_OK;
}

/* Validates a checkpoint and prints what it holds. Needs no MPI. Returns the exit status. */
static int inspect(const char *path)
{
    NnCheckpoint ck;
    char err[NN_ERR_LEN], hex[17];
    if (nn_checkpoint_load(path, &ck, err) != NN_OK) {
        printf("%s: INVALID: %s\n", path, err);
        return EXIT_RUN_FAILED;
    }
    const NnTrainState *s = &ck.state;
    const NnModel *m = &ck.model;
    nn_hash_hex(ck.checksum, hex);
    printf("%s: valid (checksum %s)\n", path, hex);
    printf("written by: nn-mpi %s on %lld ranks\n", ck.nn_mpi_version, (long long)s->nranks);
    printf("position: %lld epochs done, %lld steps into the next; %lld steps and %lld samples "
           "in all\n",
           (long long)s->epochs_done, (long long)s->step_in_epoch, (long long)s->global_step,
           (long long)s->samples_seen);
    printf("model: %d", m->inputs);
    for (int l = 0; l < m->n_layers; l++) printf("-%d", m->layers[l].out);
    printf(" %s/%s, %zu parameters\n", nn_activation_name(m->activation), nn_loss_name(m->loss),
           m->n_params);
    char prep[256];
    nn_preprocess_describe(&ck.prep, prep, sizeof prep);
    printf("input: %s%s\n", prep, ck.has_preprocessing ? "" : " (no /preprocessing: the default)");
    printf("last epoch: train_loss %.6f test_loss %.6f test_accuracy %.4f\n", s->train_loss,
           s->test_loss, s->test_accuracy);
    nn_hash_hex(nn_model_params_hash(m), hex);
    printf("params_hash: %s\n", hex);
    printf("fixed settings:\n%s", ck.fixed_settings);
    printf("config:\n%s", ck.config_text);
    nn_checkpoint_free(&ck);
    return 0;
}

/* OpenBLAS 0.3.21 does not recognise some newer x86 CPUs and then falls back to its
 * slowest kernels (Prescott: SSE3), which makes training 2-3 times slower. It reads
 * OPENBLAS_CORETYPE only when it loads, so when it made that choice and the user chose no
 * core type, restart once with the core type the CPU's features allow. */
static void choose_blas_kernels(char **argv)
{
#if defined(__x86_64__)
    if (getenv("OPENBLAS_CORETYPE")) return;
    const char *name = openblas_get_corename();
    if (!name || (strcmp(name, "Prescott") != 0 && strcmp(name, "prescott") != 0)) return;
    __builtin_cpu_init();
    const char *core = __builtin_cpu_supports("avx512f") ? "SkylakeX"
                       : __builtin_cpu_supports("avx2") ? "Haswell"
                                                        : NULL;
    if (!core || setenv("OPENBLAS_CORETYPE", core, 1) != 0) return;
    execv("/proc/self/exe", argv); /* returns only on failure: keep the slow kernels */
    unsetenv("OPENBLAS_CORETYPE");
#else
    (void)argv;
#endif
}

int main(int argc, char **argv)
{
    choose_blas_kernels(argv);
    char err[NN_ERR_LEN];
    if (nn_fault_configure(getenv(NN_FAULT_ENV), err) != NN_OK) {
        fprintf(stderr, "nn-mpi: %s\n", err); /* every rank: no MPI yet */
        return EXIT_USAGE;
    }
    Args args;
    NnStatus parsed = parse_args(argc, argv, &args, err);
    nn_h5_silence();
    if (parsed == NN_OK && args.inspect && !args.help && !args.version)
        return inspect(args.inspect); /* a plain program: no MPI */

    MPI_Init(&argc, &argv);
    double started = MPI_Wtime();
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    nn_fault_set_rank(rank);
    int code = 0;
    char *file_text = NULL, *config_text = NULL;
    NnConfig cfg;

    if (parsed != NN_OK) {
        if (rank == 0) fprintf(stderr, "rank 0: nn-mpi: %s\n", err);
        code = EXIT_USAGE;
        goto done;
    }
    if (args.help || args.version) {
        if (rank == 0 && args.help) usage(stdout);
        if (rank == 0 && args.version) printf("nn-mpi %s\n", NN_VERSION);
        goto done;
    }

    int failure_code;
    if (share_config_text(MPI_COMM_WORLD, args.config_path, &file_text, &failure_code, err) !=
        NN_OK) {
        if (rank == 0) fprintf(stderr, "%s\n", err);
        code = failure_code;
        goto done;
    }
    nn_config_defaults(&cfg);
    NnStatus status = nn_config_parse(file_text, args.config_path, &cfg, err);
    for (int i = 0; i < args.n_sets && status == NN_OK; i++)
        status = nn_config_set(&cfg, args.sets[i], err);
    if (status != NN_OK) {
        /* Every rank parsed the same text, so every rank fails here alike. */
        if (rank == 0) fprintf(stderr, "rank 0: %s\n", err);
        code = EXIT_USAGE;
        goto done;
    }
    size_t len = nn_config_format(&cfg, NULL, 0);
    config_text = nn_fault_alloc(NN_STAGE_CONFIG_TEXT, malloc(len + 1));
    status = config_text ? NN_OK
                         : nn_fail(err, "out of memory for the canonical config text (%zu bytes)",
                                   len + 1);
    if (nn_comm_agree(MPI_COMM_WORLD, status, err) != NN_OK) {
        if (rank == 0) fprintf(stderr, "%s\n", err);
        code = EXIT_RUN_FAILED;
        goto done;
    }
    nn_config_format(&cfg, config_text, len + 1);
    openblas_set_num_threads(cfg.blas_threads);
    nn_stop_install(cfg.stop_signal, cfg.grace_seconds);

    NnRunOptions opt = {.comm = MPI_COMM_WORLD,
                        .cfg = &cfg,
                        .config_text = config_text,
                        .resume = args.resume,
                        .new_run = args.new_run,
                        .run_name = args.run_name,
                        .log = stdout,
                        .started = started};
    switch (nn_run(&opt, err)) {
    case NN_OK: break;
    case NN_STOPPED: code = NN_EXIT_STOPPED; break;
    case NN_STOPPED_UNSAVED:
        if (rank == 0) fprintf(stderr, "%s\n", err);
        code = NN_EXIT_STOPPED_AT_ONCE;
        break;
    case NN_REFUSED:
        if (rank == 0) fprintf(stderr, "%s\n", err);
        code = EXIT_USAGE;
        break;
    case NN_ERR:
        if (rank == 0) fprintf(stderr, "%s\n", err);
        code = EXIT_RUN_FAILED;
        break;
    }
done:
    free(file_text);
    free(config_text);
    fflush(stdout);
    MPI_Finalize();
    return code;
}
