/* nn-mpi inspect CHECKPOINT: validates a checkpoint and describes it (one process, no MPI).
 * Exit status 0 when it is valid, 1 when it is not, 2 on bad usage. */
#include <stdio.h>
#include <string.h>

#include "nn_cli.h"
#include "nnmpi/nn_checkpoint.h"
#include "nnmpi/nn_hash.h"

/* Validates a checkpoint and prints what it holds. Needs no MPI. Returns the exit status. */
static int inspect(const char *path)
{
    NnCheckpoint ck;
    char err[NN_ERR_LEN], hex[17];
    if (nn_checkpoint_load(path, &ck, err) != NN_OK) {
        printf("%s: INVALID: %s\n", path, err);
        return NN_EXIT_FAILED;
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
    char optim[256], prep[256];
    nn_optim_describe(&ck.optim, optim, sizeof optim);
    printf("optimizer: %s\n", optim);
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

int nn_cmd_inspect(int argc, char **argv)
{
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            printf("usage: nn-mpi inspect CHECKPOINT\n"
                   "Validates CHECKPOINT (its format, checksum and architecture) and prints its\n"
                   "position, model, optimizer, input preprocessing, last metrics, fixed\n"
                   "settings and config.\n"
                   "Exit status: 0 valid, 1 invalid (the reason is printed), 2 bad usage.\n");
            return 0;
        }
        if (argv[i][0] == '-' || path) {
            fprintf(stderr, "nn-mpi inspect: unexpected argument %s (see --help)\n", argv[i]);
            return NN_EXIT_USAGE;
        }
        path = argv[i];
    }
    if (!path) {
        fprintf(stderr, "nn-mpi inspect: no checkpoint given (see --help)\n");
        return NN_EXIT_USAGE;
    }
    return inspect(path);
}
