#include "nnmpi/nn_model.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

#include "nnmpi/nn_fault.h"
#include "nnmpi/nn_hash.h"
#include "nnmpi/nn_rng.h"
#include "nnmpi/nn_vmath.h"

/* 64-byte aligned, zeroed allocation of n floats; NULL on failure. */
static float *alloc_floats(size_t n)
{
    size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p) memset(p, 0, bytes);
    return p;
}

/* The layers' views into params and grads (a NULL buffer gives NULL views). */
static void point_layers(NnModel *m)
{
    size_t at = 0;
    for (int l = 0; l < m->n_layers; l++) {
        NnLayer *L = &m->layers[l];
        size_t nw = (size_t)L->out * L->in;
        L->weights = m->params ? m->params + at : NULL;
        L->biases = m->params ? m->params + at + nw : NULL;
        L->d_weights = m->grads ? m->grads + at : NULL;
        L->d_biases = m->grads ? m->grads + at + nw : NULL;
        at += nw + (size_t)L->out;
    }
}

NnStatus nn_model_init(NnModel *m, int inputs, const NnIntList *hidden, int outputs,
                       NnActivation activation, NnLoss loss, int rows_cap,
                       char err[NN_ERR_LEN])
{
    memset(m, 0, sizeof *m);
    NN_ASSERT(inputs >= 1 && outputs >= 1 && rows_cap >= 1 && hidden->count <= NN_MAX_HIDDEN);
    m->n_layers = hidden->count + 1;
    m->inputs = inputs;
    m->outputs = outputs;
    m->activation = activation;
    m->loss = loss;
    m->rows_cap = rows_cap;

    size_t n_params = 0, n_act = 0;
    int in = inputs;
    for (int l = 0; l < m->n_layers; l++) {
        int out = l < hidden->count ? hidden->values[l] : outputs;
        m->layers[l].in = in;
        m->layers[l].out = out;
        m->layers[l].mask_at = -1;
        n_params += (size_t)out * in + out;
        n_act += (size_t)rows_cap * out * 2;
        in = out;
    }
    m->n_params = n_params;
    m->input = alloc_floats((size_t)rows_cap * inputs);
    m->labels = calloc((size_t)rows_cap, sizeof *m->labels);
    if (nn_loss_is_regression(loss)) m->targets = alloc_floats((size_t)rows_cap * outputs);
    m->arena = nn_fault_alloc(NN_STAGE_MODEL, alloc_floats(n_act));
    if (!m->input || !m->labels || !m->arena || (nn_loss_is_regression(loss) && !m->targets)) {
        nn_model_free(m);
        return nn_fail(err, "out of memory for a model of %zu parameters and %d rows", n_params,
                       rows_cap);
    }
    float *a = m->arena;
    for (int l = 0; l < m->n_layers; l++) {
        NnLayer *L = &m->layers[l];
        L->act = a;
        L->delta = a + (size_t)rows_cap * L->out;
        a += (size_t)rows_cap * L->out * 2;
    }
    return NN_OK;
}

NnStatus nn_model_set_dropout(NnModel *m, const double *rates, char err[NN_ERR_LEN])
{
    NN_ASSERT(!m->dropped_arena && m->mask_units == 0);
    size_t n = 0;
    for (int l = 0; l < m->n_layers - 1; l++) {
        NN_ASSERT(rates[l] >= 0.0 && rates[l] < 1.0);
        m->dropout[l] = rates[l];
        if (rates[l] > 0.0) n += (size_t)m->rows_cap * m->layers[l].out;
    }
    if (n == 0) return NN_OK;
    m->dropped_arena = alloc_floats(n);
    if (!m->dropped_arena)
        return nn_fail(err, "out of memory for dropout's buffers (%zu floats)", n);
    float *d = m->dropped_arena;
    for (int l = 0; l < m->n_layers - 1; l++) {
        NnLayer *L = &m->layers[l];
        if (m->dropout[l] == 0.0) continue;
        L->mask_at = m->mask_units;
        L->dropped = d;
        m->mask_units += L->out;
        d += (size_t)m->rows_cap * L->out;
    }
    return NN_OK;
}

void nn_model_bind(NnModel *m, float *params, float *grads)
{
    m->params = params;
    m->grads = grads;
    point_layers(m);
}

/* n floats rounded up to whole 64-byte lines. */
static size_t whole_lines(size_t n)
{
    return (n + 15) / 16 * 16;
}

NnStatus nn_model_storage_init(NnModelStorage *s, NnModel *m, size_t optim_floats,
                               char err[NN_ERR_LEN])
{
    memset(s, 0, sizeof *s);
    size_t n = m->n_params, params = whole_lines(n), grads = whole_lines(n + NN_GRAD_EXTRA);
    float *block = alloc_floats(params + grads + optim_floats);
    if (!block)
        return nn_fail(err, "out of memory for the parameters, gradients and optimizer state "
                            "of a model of %zu parameters",
                       n);
    s->block = block;
    s->params = block;
    s->grads = block + params;
    s->optim_state = optim_floats ? block + params + grads : NULL;
    nn_model_bind(m, s->params, s->grads);
    return NN_OK;
}

void nn_model_storage_free(NnModelStorage *s)
{
    free(s->block);
    memset(s, 0, sizeof *s);
}

void nn_model_init_weights(NnModel *m, NnInit init, int64_t seed)
{
    if (init == NN_INIT_AUTO) init = m->activation == NN_ACT_RELU ? NN_INIT_HE : NN_INIT_XAVIER;
    NnRng rng;
    nn_rng_seed(&rng, (uint64_t)seed, NN_STREAM_WEIGHTS, 0);
    for (int l = 0; l < m->n_layers; l++) {
        NnLayer *L = &m->layers[l];
        /* The output layer feeds softmax, sigmoid or nothing, not the hidden activation:
         * Xavier. */
        int he = init == NN_INIT_HE && l < m->n_layers - 1;
        float limit = he ? sqrtf(6.0f / L->in) : sqrtf(6.0f / (L->in + L->out));
        for (size_t i = 0; i < (size_t)L->out * L->in; i++)
            L->weights[i] = nn_rng_symmetric(&rng, limit);
        memset(L->biases, 0, sizeof(float) * L->out);
    }
}

/* a:(rows, out) holds x W^T; adds the bias and applies the hidden activation in place. */
static void bias_activate(float *a, const float *b, int rows, int out, NnActivation act)
{
    for (int r = 0; r < rows; r++) {
        float *row = a + (size_t)r * out;
        switch (act) {
        case NN_ACT_SIGMOID: nn_vmath_sigmoid(row, b, out); break;
        case NN_ACT_RELU:
            for (int j = 0; j < out; j++) {
                float z = row[j] + b[j];
                row[j] = z > 0.0f ? z : 0.0f;
            }
            break;
        case NN_ACT_TANH:
            for (int j = 0; j < out; j++) row[j] = tanhf(row[j] + b[j]);
            break;
        }
    }
}

/* delta:(rows, n) *= f'(z) where a = f(z):(rows, n) are the layer's outputs. */
static void activation_backward(float *delta, const float *a, size_t n, NnActivation act)
{
    switch (act) {
    case NN_ACT_SIGMOID:
        for (size_t i = 0; i < n; i++) delta[i] *= a[i] * (1.0f - a[i]);
        break;
    case NN_ACT_RELU: /* a select, not a branch, so that it vectorises */
        for (size_t i = 0; i < n; i++) delta[i] = a[i] > 0.0f ? delta[i] : 0.0f;
        break;
    case NN_ACT_TANH:
        for (size_t i = 0; i < n; i++) delta[i] *= 1.0f - a[i] * a[i];
        break;
    }
}

/* Output layer. z:(rows, out) holds x W^T; becomes softmax(z + b), sigmoid(z + b) or
 * z + b. Returns the summed loss when a truth is given. */
static double output_forward(NnModel *m, float *z, const float *b, const NnTruth *truth,
                             int rows, int64_t *correct)
{
    int out = m->outputs;
    const int32_t *labels = truth ? truth->labels : NULL;
    double loss = 0.0;
    for (int r = 0; r < rows; r++) {
        float *row = z + (size_t)r * out;
        for (int j = 0; j < out; j++) row[j] += b[j];
        int y = labels ? labels[r] : -1;
        if (labels && correct && nn_argmax(row, out) == y) (*correct)++;
        switch (m->loss) {
        case NN_LOSS_CROSS_ENTROPY: {
            float top = row[nn_argmax(row, out)];
            float zy = y >= 0 ? row[y] : 0.0f, sum = 0.0f;
            double z_sum = 0.0; /* label smoothing only */
            if (labels && truth->smoothing > 0.0f)
                for (int j = 0; j < out; j++) z_sum += row[j];
            for (int j = 0; j < out; j++) sum += row[j] = expf(row[j] - top);
            float inv = 1.0f / sum;
            for (int j = 0; j < out; j++) row[j] *= inv;
            if (labels && truth->smoothing > 0.0f) {
                /* -sum_k q_k log softmax(z)_k = log sum_k e^z_k - sum_k q_k z_k, sum q = 1 */
                double e = truth->smoothing;
                loss += (double)logf(sum) + top - ((1.0 - e) * zy + e * z_sum / out);
            } else if (labels) {
                loss += (double)logf(sum) + top - zy; /* -log softmax(z)[y] */
            }
            break;
        }
        case NN_LOSS_MSE: {
            float sq = 0.0f;
            nn_vmath_sigmoid(row, NULL, out); /* the bias is in */
            for (int j = 0; j < out; j++) {
                float d = row[j] - (j == y);
                sq += d * d;
            }
            if (labels) loss += 0.5 * sq;
            break;
        }
        case NN_LOSS_SQUARED_ERROR:
            if (truth) {
                const float *t = truth->targets + (size_t)r * out;
                float sq = 0.0f;
                for (int j = 0; j < out; j++) {
                    float d = row[j] - t[j];
                    sq += d * d;
                }
                loss += 0.5 * sq;
            }
            break;
        }
    }
    return loss;
}

double nn_model_forward(NnModel *m, const float *x, const float *masks, const NnTruth *truth,
                        int rows, int64_t *correct)
{
    NN_ASSERT(rows >= 0 && rows <= m->rows_cap);
    if (rows == 0) return 0.0;
    const float *in = x;
    for (int l = 0; l < m->n_layers; l++) {
        NnLayer *L = &m->layers[l];
        /* x:(rows, in) W:(out, in) -> act:(rows, out) = x W^T */
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, L->out, L->in, 1.0f, in,
                    L->in, L->weights, L->in, 0.0f, L->act, L->out);
        in = L->act;
        if (l == m->n_layers - 1) break;
        bias_activate(L->act, L->biases, rows, L->out, m->activation);
        if (masks && L->mask_at >= 0) {
            /* act:(rows, out) times the layer's part of masks:(rows, mask_units) */
            for (int r = 0; r < rows; r++) {
                const float *a = L->act + (size_t)r * L->out;
                const float *k = masks + (size_t)r * m->mask_units + L->mask_at;
                float *d = L->dropped + (size_t)r * L->out;
                for (int j = 0; j < L->out; j++) d[j] = a[j] * k[j];
            }
            in = L->dropped;
        }
    }
    NnLayer *top = &m->layers[m->n_layers - 1];
    return output_forward(m, top->act, top->biases, truth, rows, correct);
}

double nn_model_abs_error(const NnModel *m, const float *targets, int rows)
{
    const NnLayer *top = &m->layers[m->n_layers - 1];
    double sum = 0.0;
    for (size_t i = 0; i < (size_t)rows * (size_t)m->outputs; i++)
        sum += fabsf(top->act[i] - targets[i]);
    return sum;
}

/* The input layer l took in the last forward pass: x, the previous layer's outputs, or
 * with masks those outputs after dropout. */
static const float *layer_input(const NnModel *m, int l, const float *x, const float *masks)
{
    if (l == 0) return x;
    const NnLayer *P = &m->layers[l - 1];
    return masks && P->mask_at >= 0 ? P->dropped : P->act;
}

void nn_model_backward(NnModel *m, const float *x, const float *masks, const NnTruth *truth,
                       int rows)
{
    NN_ASSERT(rows >= 0 && rows <= m->rows_cap);
    if (rows == 0) {
        memset(m->grads, 0, sizeof(float) * m->n_params);
        return;
    }
    /* Output delta: softmax + cross-entropy gives a - q, q the target distribution
     * (onehot(y) without smoothing); sigmoid + MSE gives (a - onehot(y)) a (1 - a); linear +
     * squared error gives a - t. */
    NnLayer *top = &m->layers[m->n_layers - 1];
    int out = m->outputs;
    float off = truth->smoothing / (float)out, on = 1.0f - truth->smoothing + off; /* q */
    for (int r = 0; r < rows; r++) {
        const float *a = top->act + (size_t)r * out;
        float *d = top->delta + (size_t)r * out;
        if (m->loss == NN_LOSS_SQUARED_ERROR) {
            const float *t = truth->targets + (size_t)r * out;
            for (int j = 0; j < out; j++) d[j] = a[j] - t[j];
            continue;
        }
        for (int j = 0; j < out; j++) {
            float diff = a[j] - (j == truth->labels[r] ? on : off);
            d[j] = m->loss == NN_LOSS_CROSS_ENTROPY ? diff : diff * a[j] * (1.0f - a[j]);
        }
    }
    for (int l = m->n_layers - 1; l >= 0; l--) {
        NnLayer *L = &m->layers[l];
        const float *in = layer_input(m, l, x, masks);
        /* delta:(rows, out) in:(rows, in) -> dW:(out, in) = delta^T in */
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, L->out, L->in, rows, 1.0f, L->delta,
                    L->out, in, L->in, 0.0f, L->d_weights, L->in);
        /* db:(out) = column sums of delta */
        memcpy(L->d_biases, L->delta, sizeof(float) * L->out);
        for (int r = 1; r < rows; r++) {
            const float *d = L->delta + (size_t)r * L->out;
            for (int j = 0; j < L->out; j++) L->d_biases[j] += d[j];
        }
        if (l == 0) break;
        /* delta:(rows, out) W:(out, in) -> prev delta:(rows, in) = (delta W) * mask * f'(z_prev)
         * (no mask without dropout) */
        NnLayer *P = &m->layers[l - 1];
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, L->in, L->out, 1.0f,
                    L->delta, L->out, L->weights, L->in, 0.0f, P->delta, L->in);
        if (masks && P->mask_at >= 0)
            for (int r = 0; r < rows; r++) {
                const float *k = masks + (size_t)r * m->mask_units + P->mask_at;
                float *d = P->delta + (size_t)r * L->in;
                for (int j = 0; j < L->in; j++) d[j] *= k[j];
            }
        activation_backward(P->delta, P->act, (size_t)rows * L->in, m->activation);
    }
}

uint64_t nn_model_params_hash(const NnModel *m)
{
    return nn_hash_finish(nn_hash_update(NN_HASH_START, m->params, sizeof(float) * m->n_params));
}

void nn_model_free(NnModel *m)
{
    free(m->input);
    free(m->labels);
    free(m->targets);
    free(m->arena);
    free(m->dropped_arena);
    memset(m, 0, sizeof *m);
}
