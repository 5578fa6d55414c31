#include "nnmpi/nn_optim.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

int nn_optim_state_arrays(NnOptimizer type, const char *names[NN_OPTIM_MAX_ARRAYS])
{
    if (type == NN_OPTIM_SGD) {
        names[0] = "velocity";
        return 1;
    }
    names[0] = "exp_avg";
    names[1] = "exp_avg_sq";
    return 2;
}

size_t nn_optim_state_floats(NnOptimizer type, size_t n_params)
{
    const char *names[NN_OPTIM_MAX_ARRAYS];
    return (size_t)nn_optim_state_arrays(type, names) * n_params;
}

NnOptim nn_optim_from_config(const NnConfig *cfg, size_t n_params)
{
    return (NnOptim){.type = cfg->optimizer,
                     .momentum = (float)cfg->momentum,
                     .weight_decay = (float)cfg->weight_decay,
                     .beta1 = cfg->beta1,
                     .beta2 = cfg->beta2,
                     .epsilon = cfg->epsilon,
                     .n_params = n_params};
}

void nn_optim_bind(NnOptim *opt, float *state)
{
    opt->state = state;
    opt->velocity = opt->type == NN_OPTIM_SGD ? state : NULL;
    opt->exp_avg = opt->type == NN_OPTIM_SGD ? NULL : state;
    opt->exp_avg_sq = opt->type == NN_OPTIM_SGD ? NULL : state + opt->n_params;
}

void nn_optim_describe(const NnOptim *opt, char *out, size_t size)
{
    const char *name = nn_enum_name(nn_optimizer_names, (int)opt->type);
    if (opt->type == NN_OPTIM_SGD)
        snprintf(out, size, "%s (momentum %g, weight_decay %g)", name,
                 (double)opt->momentum, (double)opt->weight_decay);
    else
        snprintf(out, size, "%s (beta1 %g, beta2 %g, epsilon %g, weight_decay %g) after %lld "
                            "steps",
                 name, opt->beta1, opt->beta2, opt->epsilon, (double)opt->weight_decay,
                 (long long)opt->step);
}

/* v = mu v + (g s + wd w); w -= lr v, over n entries. */
static void sgd_update(float *restrict w, float *restrict v, const float *restrict g, size_t n,
                       float lr, float s, float mu, float wd)
{
    for (size_t i = 0; i < n; i++) {
        v[i] = mu * v[i] + (g[i] * s + wd * w[i]);
        w[i] -= lr * v[i];
    }
}

/* One Adam step's constants, as torch.optim.Adam(W) rounds them to float. */
typedef struct {
    float s;              /* grad_scale */
    float beta1, beta2;   /* and 1 - beta1, 1 - beta2 */
    float one_minus_beta1, one_minus_beta2;
    float bias2_sqrt;     /* sqrt(1 - beta2^t) */
    float epsilon;
    float neg_step;       /* -lr / (1 - beta1^t) */
} AdamStep;

/* Adam over n entries: g = grad s + l2 w; m = beta1 m + (1 - beta1) g;
 * v = beta2 v + (1 - beta2) g g; w += -step m / (sqrt(v) / bias2_sqrt + epsilon), after
 * w *= decay (AdamW's decoupled decay; 1 for none). The operations are PyTorch's
 * (_single_tensor_adam: mul_ then add_, addcmul_, sqrt, div, add_, addcdiv_), in its order. */
static void adam_update(float *restrict w, float *restrict m, float *restrict v,
                        const float *restrict grad, size_t n, const AdamStep *c, float l2,
                        float decay)
{
    for (size_t i = 0; i < n; i++) {
        float wi = w[i] * decay;
        float g = grad[i] * c->s + l2 * wi;
        m[i] = m[i] * c->beta1 + c->one_minus_beta1 * g;
        v[i] = v[i] * c->beta2 + c->one_minus_beta2 * g * g;
        float denom = sqrtf(v[i]) / c->bias2_sqrt + c->epsilon;
        w[i] = wi + c->neg_step * m[i] / denom;
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

/* Adam's update of the entries [at, at + n) of the parameters, weights (decayed) or not. */
static void adam_part(NnOptim *opt, float *w, const float *g, size_t at, size_t n,
                      const AdamStep *c, float lr, int weights)
{
    float l2 = 0.0f, decay = 1.0f;
    if (weights && opt->type == NN_OPTIM_ADAM) l2 = opt->weight_decay;
    if (weights && opt->type == NN_OPTIM_ADAMW)
        decay = (float)(1.0 - (double)lr * (double)opt->weight_decay);
    adam_update(w, opt->exp_avg + at, opt->exp_avg_sq + at, g, n, c, l2, decay);
}

void nn_optim_step_range(NnOptim *opt, NnModel *m, float lr, float grad_scale, size_t lo,
                         size_t hi)
{
    NN_ASSERT(opt->n_params == m->n_params && lo <= hi && hi <= m->n_params);
    AdamStep c = {0};
    if (opt->type != NN_OPTIM_SGD) {
        double t = (double)++opt->step;
        c = (AdamStep){.s = grad_scale,
                       .beta1 = (float)opt->beta1,
                       .beta2 = (float)opt->beta2,
                       .one_minus_beta1 = (float)(1.0 - opt->beta1),
                       .one_minus_beta2 = (float)(1.0 - opt->beta2),
                       .bias2_sqrt = (float)sqrt(1.0 - pow(opt->beta2, t)),
                       .epsilon = (float)opt->epsilon,
                       .neg_step = (float)-((double)lr / (1.0 - pow(opt->beta1, t)))};
    }
    for (int l = 0; l < m->n_layers; l++) {
        NnLayer *L = &m->layers[l];
        size_t nw = (size_t)L->out * L->in, at = (size_t)(L->weights - m->params), i;
        size_t n = clip(lo, hi, at, nw, &i);
        if (n && opt->type == NN_OPTIM_SGD)
            sgd_update(L->weights + i, opt->velocity + at + i, L->d_weights + i, n, lr,
                       grad_scale, opt->momentum, opt->weight_decay);
        else if (n)
            adam_part(opt, L->weights + i, L->d_weights + i, at + i, n, &c, lr, 1);
        n = clip(lo, hi, at + nw, (size_t)L->out, &i);
        if (n && opt->type == NN_OPTIM_SGD)
            sgd_update(L->biases + i, opt->velocity + at + nw + i, L->d_biases + i, n, lr,
                       grad_scale, opt->momentum, 0.0f);
        else if (n)
            adam_part(opt, L->biases + i, L->d_biases + i, at + nw + i, n, &c, lr, 0);
    }
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
