#include "nnmpi/nn_optim.h"

#include <math.h>
#include <string.h>

NnStatus nn_sgd_init(NnSgd *opt, const NnModel *m, double momentum, double weight_decay,
                     char err[NN_ERR_LEN])
{
    opt->momentum = (float)momentum;
    opt->weight_decay = (float)weight_decay;
    opt->n_params = m->n_params;
    opt->velocity = calloc(m->n_params ? m->n_params : 1, sizeof(float));
    if (!opt->velocity)
        return nn_fail(err, "out of memory for the optimizer state (%zu floats)", m->n_params);
    return NN_OK;
}

/* v = mu v + (g s + wd w); w -= lr v, over n entries. */
static void update(float *w, float *v, const float *g, size_t n, float lr, float s, float mu,
                   float wd)
{
    for (size_t i = 0; i < n; i++) {
        v[i] = mu * v[i] + (g[i] * s + wd * w[i]);
        w[i] -= lr * v[i];
    }
}

void nn_sgd_step(NnSgd *opt, NnModel *m, float lr, float grad_scale)
{
    NN_ASSERT(opt->n_params == m->n_params);
    for (int l = 0; l < m->n_layers; l++) {
        NnLayer *L = &m->layers[l];
        size_t nw = (size_t)L->out * L->in;
        float *v = opt->velocity + (L->weights - m->params);
        update(L->weights, v, L->d_weights, nw, lr, grad_scale, opt->momentum,
               opt->weight_decay);
        update(L->biases, v + nw, L->d_biases, (size_t)L->out, lr, grad_scale, opt->momentum,
               0.0f);
    }
}

void nn_sgd_free(NnSgd *opt)
{
    free(opt->velocity);
    memset(opt, 0, sizeof *opt);
}

double nn_lr_at(const NnConfig *cfg, int64_t epoch, int64_t step, int64_t steps_per_epoch)
{
    switch (cfg->lr_schedule) {
    case NN_LR_CONSTANT:
        return cfg->learning_rate;
    case NN_LR_STEP:
        return cfg->learning_rate * pow(cfg->lr_gamma, (double)(epoch / cfg->lr_step_epochs));
    case NN_LR_COSINE: {
        double total = (double)cfg->epochs * steps_per_epoch;
        double t = (double)(epoch * steps_per_epoch + step);
        if (t > total) t = total;
        return cfg->lr_min + (cfg->learning_rate - cfg->lr_min) * 0.5 *
                                 (1.0 + cos(M_PI * t / (total > 0 ? total : 1)));
    }
    }
    return cfg->learning_rate;
}
