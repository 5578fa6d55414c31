/* nn-mpi train: data-parallel training of a feed-forward network over MPI ranks.
 *   nn-mpi train CONFIG [--set section.key=value ...] [--resume CHECKPOINT|auto]
 *                       [--new-run | --run-name NAME]
 * (nn-mpi CONFIG ... is the same.) Exit status: 0 done; 1 the run failed (data, checkpoint, diverged); 2 bad usage or config,
 * or the run refused to start (its directory is in use or holds another run, a resume would
 * change a fixed setting);
 * 75 stopped by a signal or the time limit after writing a checkpoint; 76 stopped by a
 * signal without a new checkpoint. */
#include <cblas.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "nn_cli.h"
#include "nnmpi/nn_comm.h"
#include "nnmpi/nn_config.h"
#include "nnmpi/nn_fault.h"
#include "nnmpi/nn_run.h"
#include "nnmpi/nn_rundir.h"
#include "nnmpi/nn_stop.h"

#define MAX_SETS 256

typedef struct {
    const char *config_path;
    const char *resume;  /* a checkpoint, or "auto" */
    const char *run_name;
    const char *sets[MAX_SETS];
    int n_sets;
    int help, version, new_run, dry_run;
    int top_level; /* invoked as nn-mpi CONFIG, not nn-mpi train CONFIG */
} Args;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: nn-mpi train CONFIG [--set section.key=value ...]\n"
            "                           [--resume CHECKPOINT|auto] [--new-run | --run-name NAME]\n"
            "                           [--dry-run]\n"
            "       (nn-mpi CONFIG ... is the same)\n"
            "Trains the network described by the INI file CONFIG; run it under mpirun or srun.\n"
            "  --set section.key=value   override one config key (repeatable)\n"
            "  --resume CHECKPOINT       continue the run saved in CHECKPOINT\n"
            "  --resume auto             continue the newest run in [run] dir whose fixed\n"
            "                            settings match, or start one if there is none\n"
            "  --dry-run                 check the config, the data, the run directory and a\n"
            "                            resume, time a few steps and print the model, the\n"
            "                            splits and a time estimate; writes nothing\n"
            "  --new-run                 start a new run in [run] dir even though it holds\n"
            "                            others (a fresh start there is refused otherwise)\n"
            "  --run-name NAME           the run lives in DIR/NAME instead of a new\n"
            "                            DIR/version_N: a fresh start makes it, --resume\n"
            "                            auto continues it (the Slurm scripts name each job's)\n"
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
    a->top_level = strcmp(argv[0], "train") != 0;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            a->help = 1;
        } else if (strcmp(arg, "--version") == 0) {
            a->version = 1;
        } else if (strcmp(arg, "--new-run") == 0) {
            a->new_run = 1;
        } else if (strcmp(arg, "--dry-run") == 0) {
            a->dry_run = 1;
        } else if (strcmp(arg, "--set") == 0 || strcmp(arg, "--resume") == 0 ||
                   strcmp(arg, "--run-name") == 0) {
            if (i + 1 == argc) return nn_fail(err, "%s needs a value", arg);
            if (strcmp(arg, "--run-name") == 0) {
                a->run_name = argv[++i];
                if (nn_rundir_check_name(a->run_name, err) != NN_OK) return NN_ERR;
            } else if (arg[2] == 'r') {
                a->resume = argv[++i];
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
    if (!a->help && !a->version && !a->config_path)
        return nn_fail(err, "no config file given (see --help)");
    if (a->new_run && a->resume)
        return nn_fail(err, "--new-run starts a run and --resume continues one: give one");
    if (a->new_run && a->run_name)
        return nn_fail(err, "--new-run makes a version_N and --run-name names the run: give one");
    return NN_OK;
}

/* Rank 0 reads the config file and every rank receives its text, so that all ranks parse
 * the same bytes. Collective; the status is agreed. On failure *code is the exit status it
 * means: NN_EXIT_USAGE for the file, NN_EXIT_FAILED for memory. */
static NnStatus share_config_text(MPI_Comm comm, const char *path, char **text, int *code,
                                  char err[NN_ERR_LEN])
{
    int rank;
    long long len = -1;
    NN_MPI_CHECK(MPI_Comm_rank(comm, &rank));
    *text = NULL;
    *code = NN_EXIT_USAGE;
    NnStatus status = NN_OK;
    if (rank == 0) {
        status = nn_config_read_file(path, text, err);
        if (status == NN_OK) len = (long long)strlen(*text);
    }
    status = nn_comm_agree(comm, status, err);
    if (status != NN_OK) return status;
    *code = NN_EXIT_FAILED;
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

int nn_cmd_train(int argc, char **argv)
{
    char err[NN_ERR_LEN];
    Args args;
    NnStatus parsed = parse_args(argc, argv, &args, err);

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
        code = NN_EXIT_USAGE;
        goto done;
    }
    if (args.help || args.version) {
        if (rank == 0 && args.help && args.top_level) nn_cli_overview(stdout);
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
    if (status == NN_OK) status = nn_config_check(&cfg, err);
    int size;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    nn_config_resolve(&cfg, size); /* the checkpoints' config records the values */
    if (status != NN_OK) {
        /* Every rank parsed the same text, so every rank fails here alike. */
        if (rank == 0) fprintf(stderr, "rank 0: %s\n", err);
        code = NN_EXIT_USAGE;
        goto done;
    }
    size_t len = nn_config_format(&cfg, NULL, 0);
    config_text = nn_fault_alloc(NN_STAGE_CONFIG_TEXT, malloc(len + 1));
    status = config_text ? NN_OK
                         : nn_fail(err, "out of memory for the canonical config text (%zu bytes)",
                                   len + 1);
    if (nn_comm_agree(MPI_COMM_WORLD, status, err) != NN_OK) {
        if (rank == 0) fprintf(stderr, "%s\n", err);
        code = NN_EXIT_FAILED;
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
                        .dry_run = args.dry_run,
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
        code = NN_EXIT_USAGE;
        break;
    case NN_ERR:
        if (rank == 0) fprintf(stderr, "%s\n", err);
        code = NN_EXIT_FAILED;
        break;
    }
done:
    free(file_text);
    free(config_text);
    fflush(stdout);
    MPI_Finalize();
    return code;
}
