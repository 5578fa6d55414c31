#include "nnmpi/nn_optim.h"

#include <math.h>
#include <string.h>

size_t nn_optim_state_floats(size_t n_params)
{
    return n_params;
}

NnOptim nn_optim_make(double momentum, double weight_decay, size_t n_params)
{
    return (NnOptim){.momentum = (float)momentum,
                     .weight_decay = (float)weight_decay,
                     .n_params = n_params};
}

void nn_optim_bind(NnOptim *opt, float *state)
{
    opt->velocity = state;
}

/* v = mu v + (g s + wd w); w -= lr v, over n entries. */
static void update(float *restrict w, float *restrict v, const float *restrict g, size_t n,
                   float lr, float s, float mu, float wd)
{
    for (size_t i = 0; i < n; i++) {
        v[i] = mu * v[i] + (g[i] * s + wd * w[i]);
        w[i] -= lr * v[i];
    }
}

void nn_optim_step(NnOptim *opt, NnModel *m, float lr, float grad_scale)
{
    nn_optim_step_range(opt, m, lr, grad_scale, 0, m->n_params);
}

/* [lo, hi) narrowed to [from, from + n): returns its length (0 when empty) and sets
 * *first to its start as an offset from `from`. */
static size_t clip(size_t lo, size_t hi, size_t from, size_t n, size_t *first)
{
    size_t a = lo > from ? lo : from, b = hi < from + n ? hi : from + n;
    *first = a - from;
    return b > a ? b - a : 0;
}

void nn_optim_step_range(NnOptim *opt, NnModel *m, float lr, float grad_scale, size_t lo,
                         size_t hi)
{
    NN_ASSERT(opt->n_params == m->n_params && lo <= hi && hi <= m->n_params);
    for (int l = 0; l < m->n_layers; l++) {
        NnLayer *L = &m->layers[l];
        size_t nw = (size_t)L->out * L->in, at = (size_t)(L->weights - m->params), i;
        size_t n = clip(lo, hi, at, nw, &i);
        if (n)
            update(L->weights + i, opt->velocity + at + i, L->d_weights + i, n, lr, grad_scale,
                   opt->momentum, opt->weight_decay);
        n = clip(lo, hi, at + nw, (size_t)L->out, &i);
        if (n)
            update(L->biases + i, opt->velocity + at + nw + i, L->d_biases + i, n, lr,
                   grad_scale, opt->momentum, 0.0f);
    }
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
