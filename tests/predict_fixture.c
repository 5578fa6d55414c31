/* predict_fixture OUT.h5 LOSS: writes a valid checkpoint of a 6-5-3 tanh model with loss
 * LOSS (cross_entropy, mse or squared_error), random weights (fixed seed), float32 features
 * scaled by 0.5, for tests/predict.sh: the outputs of the losses that training on MNIST
 * does not give it (mse's sigmoid scores, squared_error's values). Exit status 0 or 1. */
#include <stdio.h>
#include <string.h>

#include "nnmpi/nn_checkpoint.h"
#include "nnmpi/nn_rng.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: predict_fixture OUT.h5 cross_entropy|mse|squared_error\n");
        return 2;
    }
    int loss = -1;
    for (int l = NN_LOSS_CROSS_ENTROPY; l <= NN_LOSS_SQUARED_ERROR; l++)
        if (strcmp(argv[2], nn_loss_name((NnLoss)l)) == 0) loss = l;
    if (loss < 0) {
        fprintf(stderr, "predict_fixture: unknown loss %s\n", argv[2]);
        return 2;
    }
    char err[NN_ERR_LEN];
    NnModel m;
    NnModelStorage storage;
    NnIntList hidden = {1, {5}};
    if (nn_model_init(&m, 6, &hidden, 3, NN_ACT_TANH, (NnLoss)loss, 1, err) != NN_OK ||
        nn_model_storage_init(&storage, &m, nn_optim_state_floats(NN_OPTIM_SGD, m.n_params), err) != NN_OK) {
        fprintf(stderr, "predict_fixture: %s\n", err);
        return 1;
    }
    NnOptim opt = {.type = NN_OPTIM_SGD, .momentum = 0.9f, .n_params = m.n_params};
    nn_optim_bind(&opt, storage.optim_state);
    NnRng rng;
    nn_rng_seed(&rng, 11, 1, 0);
    for (size_t i = 0; i < m.n_params; i++) m.params[i] = nn_rng_symmetric(&rng, 1.5f);
    NnPreprocess prep = {.type = NN_FEATURES_FLOAT32, .features = 6, .scale = 0.5f};
    NnTrainState state = {.epochs_done = 1, .seed = 11, .batch_size = 4, .train_samples = 8,
                          .nranks = 1, .train_loss = 0.5, .test_loss = 0.5,
                          .test_accuracy = 0.5, .best_step = -1};
    snprintf(state.run_id, sizeof state.run_id, "fixture");
    char fixed[256];
    snprintf(fixed, sizeof fixed,
             "[model] hidden = 5\n[model] loss = %s\nfeatures per sample = 6\n", argv[2]);
    NnStatus status = nn_checkpoint_write(argv[1], &m, &opt, &prep, &state,
                                          "[model]\nhidden = 5\n", fixed, err);
    if (status != NN_OK) fprintf(stderr, "predict_fixture: %s\n", err);
    nn_model_free(&m);
    nn_model_storage_free(&storage);
    return status == NN_OK ? 0 : 1;
}
