/* Adam and AdamW steps for tests/adam_torch.py, which replays them with PyTorch's
 * torch.optim.Adam and AdamW: test_adam OUT writes, per case, a 5-4-3 model's weights and
 * then, per step, the learning rate (varying like a schedule), the gradient scale, the
 * gradient sums and the weights, exp_avg and exp_avg_sq after nn_optim_step, as text
 * (9 significant digits: floats exactly). Cases: adam and adamw, with and without weight
 * decay, and one with other betas and epsilon; a few gradients stay zero (epsilon alone
 * keeps the step finite).
 *
 * It checks itself that ranks updating slices of shared state (nn_optim_step_range, each
 * rank with its own optimizer and step count) give the whole update bit for bit. */
#include <math.h>
#include <stdlib.h>

#include "nn_test.h"
#include "nnmpi/nn_optim.h"
#include "nnmpi/nn_rng.h"

enum { STEPS = 6, INPUTS = 5, OUTPUTS = 3, RANKS = 3 };

typedef struct {
    NnOptimizer type;
    double weight_decay, beta1, beta2, epsilon;
} Case;

static void write_floats(FILE *out, const char *name, const float *v, size_t n)
{
    fprintf(out, "%s", name);
    for (size_t i = 0; i < n; i++) fprintf(out, " %.9g", (double)v[i]);
    fputc('\n', out);
}

/* A model of INPUTS -> 4 -> OUTPUTS in storage with room for the optimizer cfg describes,
 * bound to it. */
static void make(const NnConfig *cfg, NnModel *m, NnModelStorage *s, NnOptim *opt)
{
    NnIntList hidden = {1, {4}};
    char err[NN_ERR_LEN];
    CHECK(nn_model_init(m, INPUTS, &hidden, OUTPUTS, NN_ACT_RELU, NN_LOSS_CROSS_ENTROPY, 1,
                        err) == NN_OK);
    CHECK(nn_model_storage_init(s, m, nn_optim_state_floats(cfg->optimizer, m->n_params), err) ==
          NN_OK);
    *opt = nn_optim_from_config(cfg, m->n_params);
    nn_optim_bind(opt, s->optim_state);
}

static void run_case(FILE *out, const Case *c, uint64_t seed)
{
    NnConfig cfg;
    nn_config_defaults(&cfg);
    cfg.optimizer = c->type;
    cfg.weight_decay = c->weight_decay;
    cfg.beta1 = c->beta1;
    cfg.beta2 = c->beta2;
    cfg.epsilon = c->epsilon;
    NnModel m, sliced;
    NnModelStorage s, sliced_s;
    NnOptim opt, ranks[RANKS];
    make(&cfg, &m, &s, &opt);
    make(&cfg, &sliced, &sliced_s, &ranks[0]);
    for (int r = 1; r < RANKS; r++) ranks[r] = ranks[0]; /* views of the same state */
    size_t n = m.n_params;
    NnRng rng;
    nn_rng_seed(&rng, seed, 5, 0);
    for (size_t i = 0; i < n; i++) m.params[i] = nn_rng_symmetric(&rng, 0.5f);
    memcpy(sliced.params, m.params, sizeof(float) * n);

    fprintf(out, "case %s %.17g %.17g %.17g %.9g\n", nn_enum_name(nn_optimizer_names, c->type),
            c->beta1, c->beta2, c->epsilon, (double)opt.weight_decay);
    for (int l = 0; l < m.n_layers; l++)
        fprintf(out, "layer %d %d\n", m.layers[l].in, m.layers[l].out);
    write_floats(out, "params", m.params, n);
    /* Slices at uneven offsets, one of them empty, as ranks of a node have them. */
    size_t bounds[RANKS + 1] = {0, 7, 7, n};
    for (int t = 0; t < STEPS; t++) {
        float lr = (float)(1e-3 + 1e-2 * 0.5 * (1.0 + cos(M_PI * t / STEPS)));
        float scale = 1.0f / 7.0f;
        for (size_t i = 0; i < n; i++) /* sums over 7 samples; entries 3 and 20 stay zero */
            m.grads[i] = i == 3 || i == 20 ? 0.0f
                                           : nn_rng_symmetric(&rng, 2.0f) *
                                                 (float)pow(10.0, (double)(i % 3) - 1.0);
        memcpy(sliced.grads, m.grads, sizeof(float) * n);
        nn_optim_step(&opt, &m, lr, scale);
        for (int r = 0; r < RANKS; r++)
            nn_optim_step_range(&ranks[r], &sliced, lr, scale, bounds[r], bounds[r + 1]);
        CHECK(opt.step == t + 1);
        for (int r = 0; r < RANKS; r++) CHECK(ranks[r].step == t + 1);
        CHECK(memcmp(m.params, sliced.params, sizeof(float) * n) == 0);
        CHECK(memcmp(opt.state, ranks[0].state,
                     sizeof(float) * nn_optim_state_floats(opt.type, n)) == 0);
        for (size_t i = 0; i < n; i++) CHECK(isfinite(m.params[i]));
        fprintf(out, "step %.9g %.9g\n", (double)lr, (double)scale);
        write_floats(out, "grads", m.grads, n);
        write_floats(out, "params", m.params, n);
        write_floats(out, "exp_avg", opt.exp_avg, n);
        write_floats(out, "exp_avg_sq", opt.exp_avg_sq, n);
    }
    fprintf(out, "end\n");
    nn_model_free(&m);
    nn_model_free(&sliced);
    nn_model_storage_free(&s);
    nn_model_storage_free(&sliced_s);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_adam OUT\n");
        return 2;
    }
    FILE *out = fopen(argv[1], "w");
    if (!out) {
        perror(argv[1]);
        return 1;
    }
    const Case cases[] = {{NN_OPTIM_ADAM, 0.0, 0.9, 0.999, 1e-8},
                          {NN_OPTIM_ADAM, 0.01, 0.9, 0.999, 1e-8},
                          {NN_OPTIM_ADAMW, 0.0, 0.9, 0.999, 1e-8},
                          {NN_OPTIM_ADAMW, 0.05, 0.9, 0.999, 1e-8},
                          {NN_OPTIM_ADAMW, 0.01, 0.8, 0.99, 1e-3}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(out, &cases[i], 11 + i);
    CHECK(fclose(out) == 0);
    return nn_test_finish("test_adam");
}
