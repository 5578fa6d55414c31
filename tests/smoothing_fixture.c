/* smoothing_fixture EPSILON: the loss and the gradient with respect to the logits that
 * nn_model_forward and nn_model_backward give for cross-entropy with label smoothing
 * EPSILON, on a few rows of 5 logits (small, spread and extreme ones), as JSON for
 * tests/regularize.sh to hold against PyTorch's CrossEntropyLoss(label_smoothing) and
 * numpy's formula. The model is one 5-5 layer with identity weights and zero biases, so
 * that its logits are its inputs and the biases' gradient is the logits'. Exit status 0,
 * or 2 on bad usage. */
#include <stdio.h>
#include <stdlib.h>

#include "nnmpi/nn_model.h"
#include "nnmpi/nn_rng.h"

enum { K = 5, ROWS = 6 };

int main(int argc, char **argv)
{
    char *end = NULL;
    double eps = argc == 2 ? strtod(argv[1], &end) : -1.0;
    if (argc != 2 || *end != '\0' || !(eps >= 0.0 && eps < 1.0)) {
        fprintf(stderr, "usage: smoothing_fixture EPSILON (in [0, 1))\n");
        return 2;
    }
    NnIntList none = {0, {0}};
    NnModel m;
    char err[NN_ERR_LEN];
    if (nn_model_init(&m, K, &none, K, NN_ACT_RELU, NN_LOSS_CROSS_ENTROPY, 1, err) != NN_OK) {
        fprintf(stderr, "smoothing_fixture: %s\n", err);
        return 1;
    }
    for (int i = 0; i < K; i++) m.layers[0].weights[i * K + i] = 1.0f;
    NnRng rng;
    nn_rng_seed(&rng, 5, 99, 0);
    printf("{\"epsilon\": %.17g, \"rows\": [", eps);
    for (int r = 0; r < ROWS; r++) {
        float z[K];
        float scale = r < 2 ? 1.0f : r < 4 ? 8.0f : 60.0f; /* 60: exp overflows unshifted */
        for (int k = 0; k < K; k++) z[k] = nn_rng_symmetric(&rng, scale);
        int32_t y = (int32_t)nn_rng_below(&rng, K);
        NnTruth truth = {&y, NULL, (float)eps};
        double loss = nn_model_forward(&m, z, NULL, &truth, 1, NULL);
        nn_model_backward(&m, z, NULL, &truth, 1);
        printf("%s\n  {\"logits\": [", r ? "," : "");
        for (int k = 0; k < K; k++) printf("%s%.9g", k ? ", " : "", z[k]);
        printf("], \"label\": %d, \"loss\": %.17g, \"grad\": [", y, loss);
        for (int k = 0; k < K; k++) printf("%s%.9g", k ? ", " : "", m.layers[0].d_biases[k]);
        printf("]}");
    }
    printf("\n]}\n");
    nn_model_free(&m);
    return 0;
}
