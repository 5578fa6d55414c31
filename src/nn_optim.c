#include "nnmpi/nn_optim.h"

#include <math.h>
#include <string.h>

#include "nnmpi/nn_fault.h"

NnStatus nn_sgd_init(NnSgd *opt, const NnModel *m, double momentum, double weight_decay,
                     char err[NN_ERR_LEN])
{
    opt->momentum = (float)momentum;
    opt->weight_decay = (float)weight_decay;
    opt->n_params = m->n_params;
    opt->velocity =
        nn_fault_alloc(NN_STAGE_OPTIMIZER, calloc(m->n_params ? m->n_params : 1, sizeof(float)));
    opt->owns_velocity = 1;
    if (!opt->velocity)
        return nn_fail(err, "out of memory for the optimizer state (%zu floats)", m->n_params);
    return NN_OK;
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

void nn_sgd_step(NnSgd *opt, NnModel *m, float lr, float grad_scale)
{
    nn_sgd_step_range(opt, m, lr, grad_scale, 0, m->n_params);
}

/* [lo, hi) narrowed to [from, from + n): returns its length (0 when empty) and sets
 * *first to its start as an offset from `from`. */
static size_t clip(size_t lo, size_t hi, size_t from, size_t n, size_t *first)
{
    size_t a = lo > from ? lo : from, b = hi < from + n ? hi : from + n;
    *first = a - from;
    return b > a ? b - a : 0;
}

void nn_sgd_step_range(NnSgd *opt, NnModel *m, float lr, float grad_scale, size_t lo,
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

void nn_sgd_use_storage(NnSgd *opt, float *velocity)
{
    if (opt->owns_velocity) free(opt->velocity);
    opt->velocity = velocity;
    opt->owns_velocity = 0;
}

void nn_sgd_free(NnSgd *opt)
{
    if (opt->owns_velocity) free(opt->velocity);
    memset(opt, 0, sizeof *opt);
}

int64_t nn_warmup_steps(const NnConfig *cfg, int64_t steps_per_epoch)
{
    if (cfg->warmup_steps > 0) return cfg->warmup_steps;
    if (cfg->warmup_epochs <= 0) return 0;
    int64_t w = llround(cfg->warmup_epochs * (double)steps_per_epoch);
    return w > 1 ? w : 1;
}

/* The schedule's rate, before the warm-up. */
static double scheduled(const NnConfig *cfg, int64_t epoch, int64_t step, int64_t steps_per_epoch)
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

double nn_lr_at(const NnConfig *cfg, int64_t epoch, int64_t step, int64_t steps_per_epoch)
{
    double lr = scheduled(cfg, epoch, step, steps_per_epoch);
    int64_t w = nn_warmup_steps(cfg, steps_per_epoch), t = epoch * steps_per_epoch + step;
    return t + 1 < w ? lr * (double)(t + 1) / (double)w : lr;
}
