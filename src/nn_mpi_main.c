/* nn-mpi: data-parallel training of a feed-forward network over MPI ranks.
 *   nn-mpi CONFIG [--set section.key=value ...] [--resume CHECKPOINT]
 * Exit status: 0 done; 1 the run failed (data, checkpoint, diverged); 2 bad usage or config. */
#include <cblas.h>
#include <mpi.h>
#include <stdlib.h>
#include <string.h>

#include "nnmpi/nn_comm.h"
#include "nnmpi/nn_config.h"
#include "nnmpi/nn_h5.h"
#include "nnmpi/nn_run.h"

enum { EXIT_RUN_FAILED = 1, EXIT_USAGE = 2 };

#define MAX_SETS 256

typedef struct {
    const char *config_path;
    const char *resume_path;
    const char *sets[MAX_SETS];
    int n_sets;
    int help, version;
} Args;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: nn-mpi CONFIG [--set section.key=value ...] [--resume CHECKPOINT]\n"
            "       nn-mpi --help | --version\n"
            "Trains the network described by the INI file CONFIG; run it under mpirun or srun.\n"
            "  --set section.key=value   override one config key (repeatable)\n"
            "  --resume CHECKPOINT       continue the run saved in CHECKPOINT\n"
            "Exit status: 0 done, 1 the run failed, 2 bad usage or config.\n"
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
        } else if (strcmp(arg, "--set") == 0 || strcmp(arg, "--resume") == 0) {
            if (i + 1 == argc) return nn_fail(err, "%s needs a value", arg);
            if (arg[2] == 'r') {
                a->resume_path = argv[++i];
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
    return NN_OK;
}

/* Rank 0 reads the config file and every rank receives its text, so that all ranks parse
 * the same bytes. Collective; the status is agreed. */
static NnStatus share_config_text(MPI_Comm comm, const char *path, char **text,
                                  char err[NN_ERR_LEN])
{
    int rank;
    long long len = -1;
    NN_MPI_CHECK(MPI_Comm_rank(comm, &rank));
    *text = NULL;
    NnStatus status = NN_OK;
    if (rank == 0) {
        status = nn_config_read_file(path, text, err);
        if (status == NN_OK) len = (long long)strlen(*text);
    }
    status = nn_comm_agree(comm, status, err);
    if (status != NN_OK) return status;
    NN_MPI_CHECK(MPI_Bcast(&len, 1, MPI_LONG_LONG, 0, comm));
    if (rank != 0) {
        *text = malloc((size_t)len + 1);
        NN_ASSERT(*text != NULL);
    }
    NN_MPI_CHECK(MPI_Bcast(*text, (int)len + 1, MPI_CHAR, 0, comm));
    return NN_OK;
}

int main(int argc, char **argv)
{
    MPI_Init(&argc, &argv);
    int rank;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    nn_h5_silence();
    char err[NN_ERR_LEN];
    int code = 0;
    Args args;
    char *file_text = NULL, *config_text = NULL;
    NnConfig cfg;

    if (parse_args(argc, argv, &args, err) != NN_OK) {
        if (rank == 0) fprintf(stderr, "rank 0: nn-mpi: %s\n", err);
        code = EXIT_USAGE;
        goto done;
    }
    if (args.help || args.version) {
        if (rank == 0 && args.help) usage(stdout);
        if (rank == 0 && args.version) printf("nn-mpi %s\n", NN_VERSION);
        goto done;
    }
    if (share_config_text(MPI_COMM_WORLD, args.config_path, &file_text, err) != NN_OK) {
        if (rank == 0) fprintf(stderr, "%s\n", err);
        code = EXIT_USAGE;
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
    config_text = malloc(len + 1);
    NN_ASSERT(config_text != NULL);
    nn_config_format(&cfg, config_text, len + 1);
    openblas_set_num_threads(cfg.blas_threads);

    NnRunOptions opt = {.comm = MPI_COMM_WORLD,
                        .cfg = &cfg,
                        .config_text = config_text,
                        .resume_path = args.resume_path,
                        .log = stdout};
    if (nn_run(&opt, err) != NN_OK) {
        if (rank == 0) fprintf(stderr, "%s\n", err);
        code = EXIT_RUN_FAILED;
    }
done:
    free(file_text);
    free(config_text);
    fflush(stdout);
    MPI_Finalize();
    return code;
}
