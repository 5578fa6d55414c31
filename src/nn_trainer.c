#include "nnmpi/nn_trainer.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnmpi/nn_augment.h"
#include "nnmpi/nn_comm.h"
#include "nnmpi/nn_fault.h"
#include "nnmpi/nn_fixed.h"
#include "nnmpi/nn_reduce.h"
#include "nnmpi/nn_regularize.h"
#include "nnmpi/nn_sampler.h"

/* The reduction's slots after the gradients. */
enum { SLOT_LOSS, SLOT_COUNT, SLOT_STOP, SLOT_CHECKPOINT, SLOT_REJECTED, N_SLOTS };
_Static_assert((int)N_SLOTS <= (int)NN_GRAD_EXTRA, "the grads buffer holds the slots");

int64_t nn_trainer_test_unit(const NnConfig *cfg)
{
    NN_ASSERT(cfg->reproducible <= 1 && cfg->chunk_size >= 1); /* nn_config_resolve */
    return cfg->reproducible ? cfg->chunk_size : 1;
}

/* The one allocation of the parameters and the optimizer's state: the node-shared window
 * (nn_reduce.h), with the gradient rows. The model and the optimizer become views into it
 * (the gradients: this rank's row, or in reproducible mode t->exact_grads), and node rank
 * 0 fills it with the seed's weights (the same on every node) and a zero state. */
static NnStatus bind_storage(NnTrainer *t, char err[NN_ERR_LEN])
{
    NnModel *m = &t->model;
    size_t n = m->n_params, k = nn_optim_state_floats(t->optim.type, n);
    int exact_rows = 0;
    if (t->cfg->reproducible) {
        /* A rank's most chunks in a batch, in groups of at most NN_EXACT_ROWS. */
        int64_t chunks = (t->cfg->batch_size + t->chunk - 1) / t->chunk;
        int64_t most = (chunks + t->size - 1) / t->size;
        t->exact_groups = (int)((most + NN_EXACT_ROWS - 1) / NN_EXACT_ROWS);
        exact_rows = (int)((most + t->exact_groups - 1) / t->exact_groups);
    }
    NnStatus status = nn_reduce_init(&t->sums, t->comm, n, NN_GRAD_EXTRA, exact_rows, n + k, err);
    if (status != NN_OK) return status; /* agreed */
    float *shared = t->sums.shared;
    nn_model_bind(m, shared, t->cfg->reproducible ? t->exact_grads : nn_reduce_row(&t->sums));
    nn_optim_bind(&t->optim, shared + n);
    if (t->sums.node_rank == 0) {
        nn_model_init_weights(m, t->cfg->init, t->cfg->seed);
        memset(shared + n, 0, sizeof(float) * k);
    }
    nn_reduce_publish(&t->sums);
    return NN_OK;
}

/* Dropout: the model's rates and buffers, and the buffers of a step's masks. */
static NnStatus init_dropout(NnTrainer *t, char err[NN_ERR_LEN])
{
    NnModel *m = &t->model;
    double rates[NN_MAX_HIDDEN];
    for (int l = 0; l < t->cfg->hidden.count; l++) rates[l] = nn_config_dropout(t->cfg, l);
    if (nn_model_set_dropout(m, rates, err) != NN_OK) return NN_ERR;
    if (m->mask_units == 0) return NN_OK;
    t->masks = malloc(sizeof(float) * (size_t)m->rows_cap * (size_t)m->mask_units);
    t->batch_ids = malloc(sizeof(int32_t) * (size_t)m->rows_cap);
    if (!t->masks || !t->batch_ids)
        return nn_fail(err, "out of memory for dropout masks (%d rows of %d units)",
                       m->rows_cap, m->mask_units);
    return NN_OK;
}

/* Evaluated split s must match the training split's shape and preprocessing. */
static NnStatus check_split(const NnSamples *train, const NnSamples *s, const char *name,
                            char err[NN_ERR_LEN])
{
    if (s->total == 0) return NN_OK;
    if (s->features != train->features || s->classes != train->classes ||
        s->targets != train->targets)
        return nn_fail(err, "train samples have %d features, %d classes and %d targets, %s "
                            "samples %d, %d and %d",
                       train->features, train->classes, train->targets, name, s->features,
                       s->classes, s->targets);
    if (!nn_preprocess_equal(&s->prep, &train->prep)) {
        char a[128], b[128];
        nn_preprocess_describe(&train->prep, a, sizeof a);
        nn_preprocess_describe(&s->prep, b, sizeof b);
        return nn_fail(err, "train features are %s but %s features %s: every split needs the "
                            "same feature type and scale",
                       a, name, b);
    }
    return NN_OK;
}

NnStatus nn_trainer_check_task(const NnConfig *cfg, int targets, char err[NN_ERR_LEN])
{
    int regression = nn_loss_is_regression(cfg->loss);
    if (targets && !regression)
        return nn_fail(err, "%s holds regression targets (/train/targets) but [model] loss is "
                            "%s: set [model] loss = squared_error",
                       cfg->data_path, nn_loss_name(cfg->loss));
    if (!targets && regression)
        return nn_fail(err, "[model] loss = squared_error needs regression targets, but %s "
                            "holds class labels: use cross_entropy or mse",
                       cfg->data_path);
    if (regression && cfg->monitor == NN_MONITOR_VALIDATION_ACCURACY)
        return nn_fail(err, "[checkpoint] monitor = validation_accuracy: a regression run has "
                            "no accuracy; monitor validation_loss");
    return NN_OK;
}

NnStatus nn_trainer_init(NnTrainer *t, MPI_Comm comm, const NnConfig *cfg, NnSplits *splits,
                         char err[NN_ERR_LEN])
{
    memset(t, 0, sizeof *t);
    t->comm = comm;
    t->cfg = cfg;
    NN_MPI_CHECK(MPI_Comm_rank(comm, &t->rank));
    NN_MPI_CHECK(MPI_Comm_size(comm, &t->size));
    t->train = splits->train;
    t->validation = splits->validation;
    t->test = splits->test;
    t->n_train = splits->n_train_rows;
    int32_t *train_rows = splits->train_rows; /* freed here: the exchange keeps a copy */
    memset(splits, 0, sizeof *splits);

    NnStatus status = NN_OK;
    if (nn_config_check(cfg, err) != NN_OK ||
        check_split(&t->train, &t->test, "test", err) != NN_OK ||
        check_split(&t->train, &t->validation, "validation", err) != NN_OK)
        status = NN_ERR;
    else if (t->n_train == 0)
        status = nn_fail(err, "the training split is empty");
    else
        status = nn_trainer_check_task(cfg, t->train.targets, err);
    NnAugment augment = {0};
    if (status == NN_OK)
        status = nn_augment_init(&augment, cfg->augment, cfg->seed, &t->train, cfg->data_path,
                                 err);
    NN_ASSERT(t->n_train <= t->train.total && (train_rows || t->n_train == t->train.total));
    /* Reproducible evaluation needs shards made of whole chunks. */
    NN_ASSERT(t->test.count == 0 || t->test.start % nn_trainer_test_unit(cfg) == 0);
    NN_ASSERT(t->validation.count == 0 ||
              t->validation.start % nn_trainer_test_unit(cfg) == 0);
    if (status == NN_OK) {
        t->steps_per_epoch = nn_sampler_steps(t->n_train, cfg->batch_size);
        t->chunk = cfg->reproducible ? cfg->chunk_size : 1;
        int64_t chunks = (cfg->batch_size + t->chunk - 1) / t->chunk;
        int64_t local_cap = (chunks + t->size - 1) / t->size * t->chunk; /* a rank's part */
        int rows_cap = (int)(local_cap > NN_EVAL_ROWS ? local_cap : NN_EVAL_ROWS);
        t->step_limit = nn_fixed_limit(chunks);
        t->eval_limit[NN_SPLIT_TEST] = nn_evaluate_limit(t->test.total, t->chunk);
        t->eval_limit[NN_SPLIT_VALIDATION] = nn_evaluate_limit(t->validation.total, t->chunk);
        int outputs = t->train.targets ? t->train.targets : t->train.classes;
        status = nn_model_init(&t->model, t->train.features, &cfg->hidden, outputs,
                               cfg->activation, cfg->loss, rows_cap, err);
    }
    if (status == NN_OK) {
        t->optim = nn_optim_from_config(cfg, t->model.n_params);
        if (cfg->reproducible) {
            t->exact_grads = nn_fault_alloc(
                NN_STAGE_MODEL, calloc(t->model.n_params + NN_GRAD_EXTRA, sizeof(float)));
            if (!t->exact_grads)
                status = nn_fail(err, "out of memory for a model of %zu parameters (its "
                                      "gradients)",
                                 t->model.n_params);
        }
    }
    if (status == NN_OK) status = init_dropout(t, err);
    status = nn_comm_agree(comm, status, err);
    if (status == NN_OK && t->train.targets) {
        status = nn_evaluate_target_spread(comm, cfg->reproducible, &t->test,
                                           &t->target_sst[NN_SPLIT_TEST], err);
        if (status == NN_OK)
            status = nn_evaluate_target_spread(comm, cfg->reproducible, &t->validation,
                                               &t->target_sst[NN_SPLIT_VALIDATION], err);
    }
    if (status == NN_OK) status = bind_storage(t, err);
    if (status == NN_OK)
        status = nn_exchange_init(&t->exchange, comm, &t->train, train_rows, t->n_train,
                                  cfg->batch_size, t->chunk, cfg->seed, err);
    if (status == NN_OK)
        status = nn_comm_agree(comm, nn_exchange_set_augment(&t->exchange, &augment, err), err);
    free(train_rows);
    if (status == NN_OK) { /* the exchange holds the training records now */
        free(t->train.records);
        t->train.records = NULL;
    }
    if (status != NN_OK) nn_trainer_free(t);
    return status;
}

void nn_trainer_share_state(NnTrainer *t)
{
    nn_reduce_share_from_root(&t->sums);
    NN_MPI_CHECK(MPI_Bcast(&t->optim.step, 1, MPI_INT64_T, 0, t->comm));
}

void nn_trainer_begin_epoch(NnTrainer *t, int64_t epoch)
{
    double start = MPI_Wtime();
    nn_exchange_epoch(&t->exchange, epoch);
    t->exchange_seconds += MPI_Wtime() - start;
}

/* The truth of the batch in the model's scratch, as training sees it. */
static NnTruth training_truth(const NnTrainer *t)
{
    NnTruth truth = nn_model_truth(&t->model);
    truth.smoothing = (float)t->cfg->label_smoothing;
    return truth;
}

/* Reproducible mode: this rank's rows, chunk by chunk, each chunk's gradient into a row of
 * the node's shared memory, a group of rows at a time; the exact sums over all ranks become
 * the float gradients of this rank's slice. */
static void step_exact(NnTrainer *t, int rows, unsigned votes, NnStepResult *r)
{
    NnModel *m = &t->model;
    int64_t *q = nn_reduce_exact_slots(&t->sums), slots[NN_GRAD_EXTRA];
    NnTruth batch = training_truth(t);
    /* The slots: written before the last group's sums, which publish them. */
    q[SLOT_LOSS] = 0;
    q[SLOT_COUNT] = rows;
    q[SLOT_STOP] = (votes & NN_VOTE_STOP) != 0;
    q[SLOT_CHECKPOINT] = (votes & NN_VOTE_CHECKPOINT) != 0;
    q[SLOT_REJECTED] = 0;
    int first = 0;
    for (int g = 0; g < t->exact_groups; g++) {
        int used = 0;
        for (; used < t->sums.exact_rows && first < rows; used++, first += (int)t->chunk) {
            int c = rows - first < t->chunk ? rows - first : (int)t->chunk;
            const float *x = m->input + (size_t)first * m->inputs;
            const float *masks = t->masks ? t->masks + (size_t)first * m->mask_units : NULL;
            NnTruth truth = nn_truth_from(&batch, first, m->outputs);
            nn_model_bind(m, m->params, nn_reduce_exact_row(&t->sums, used));
            double loss = nn_model_forward(m, x, masks, &truth, c, NULL);
            nn_model_backward(m, x, masks, &truth, c);
            q[SLOT_REJECTED] += nn_fixed_add_double(&q[SLOT_LOSS], loss, t->step_limit);
        }
        double start = MPI_Wtime();
        nn_reduce_exact_add(&t->sums, used, t->step_limit,
                            g + 1 == t->exact_groups ? t->exact_grads : NULL);
        t->allreduce_seconds += MPI_Wtime() - start;
    }
    NN_ASSERT(first >= rows);
    nn_model_bind(m, m->params, t->exact_grads);
    double start = MPI_Wtime();
    int64_t left_out = nn_reduce_exact_finish(&t->sums, slots);
    t->allreduce_seconds += MPI_Wtime() - start;
    r->loss_sum = nn_fixed_to_double(slots[SLOT_LOSS]);
    r->samples = slots[SLOT_COUNT];
    r->votes = (slots[SLOT_STOP] ? NN_VOTE_STOP : 0u) |
               (slots[SLOT_CHECKPOINT] ? NN_VOTE_CHECKPOINT : 0u);
    r->rejected = slots[SLOT_REJECTED] + left_out;
}

/* Plain mode: this rank's rows in one pass into its row of float sums. */
static void step_plain(NnTrainer *t, int rows, unsigned votes, NnStepResult *r)
{
    NnModel *m = &t->model;
    NnTruth truth = training_truth(t);
    double loss = nn_model_forward(m, m->input, t->masks, &truth, rows, NULL);
    nn_model_backward(m, m->input, t->masks, &truth, rows);
    float *slot = m->grads + m->n_params; /* this rank's row */
    slot[SLOT_LOSS] = (float)loss;
    slot[SLOT_COUNT] = (float)rows;
    slot[SLOT_STOP] = (votes & NN_VOTE_STOP) ? 1.0f : 0.0f;
    slot[SLOT_CHECKPOINT] = (votes & NN_VOTE_CHECKPOINT) ? 1.0f : 0.0f;
    slot[SLOT_REJECTED] = 0.0f;
    float slots[NN_GRAD_EXTRA];
    double start = MPI_Wtime();
    nn_reduce_sum(&t->sums, slots);
    t->allreduce_seconds += MPI_Wtime() - start;
    r->loss_sum = slots[SLOT_LOSS];
    r->samples = (int64_t)slots[SLOT_COUNT];
    r->votes = (slots[SLOT_STOP] > 0.0f ? NN_VOTE_STOP : 0u) |
               (slots[SLOT_CHECKPOINT] > 0.0f ? NN_VOTE_CHECKPOINT : 0u);
    r->rejected = 0;
}

/* The mean gradient's global L2 norm, from this rank's slice of the summed gradient
 * (grad_scale: 1 / samples), and the factor min(1, c / (norm + 1e-6)) that clipping to
 * [train] clip_grad_norm = c applies. Collective over the node. */
static double clip_factor(NnTrainer *t, double grad_scale, double *norm)
{
    /* The exact sum's range, and slices that start on its blocks (nn_reduce.c). */
    NN_ASSERT(t->model.n_params < (size_t)1 << 31 && t->sums.lo % NN_SQUARES_BLOCK == 0);
    int64_t squares[NN_SQUARES_LIMBS] = {0};
    nn_fixed_add_squares(squares, t->model.grads + t->sums.lo, t->sums.hi - t->sums.lo);
    nn_reduce_sum_slices(&t->sums, squares, NN_SQUARES_LIMBS);
    *norm = sqrt(nn_fixed_squares_value(squares)) * grad_scale;
    double factor = t->cfg->clip_grad_norm / (*norm + 1e-6);
    return factor < 1.0 ? factor : 1.0;
}

NnStepResult nn_trainer_step(NnTrainer *t, int64_t step, float lr, unsigned votes)
{
    NnModel *m = &t->model;
    int rows = nn_exchange_batch(&t->exchange, step, m->input, m->labels, m->targets);
    if (t->masks) { /* each sample's own mask, whichever rank computes it */
        int ids = nn_exchange_batch_ids(&t->exchange, step, t->batch_ids);
        NN_ASSERT(ids == rows);
        nn_dropout_masks(m, t->cfg->seed, t->exchange.epoch, t->batch_ids, rows, t->masks);
    }
    NnStepResult r;
    if (t->cfg->reproducible)
        step_exact(t, rows, votes, &r);
    else
        step_plain(t, rows, votes, &r);
    NN_ASSERT(r.samples >= 1);
    r.grad_norm = NAN;
    if (r.rejected == 0) {
        float grad_scale = 1.0f / (float)r.samples;
        if (t->cfg->clip_grad_norm > 0)
            grad_scale *= (float)clip_factor(t, 1.0 / (double)r.samples, &r.grad_norm);
        nn_optim_step_range(&t->optim, m, lr, grad_scale, t->sums.lo, t->sums.hi);
    }
    double start = MPI_Wtime();
    nn_reduce_publish(&t->sums); /* every slice of the weights is updated */
    t->allreduce_seconds += MPI_Wtime() - start;
    if (t->cfg->max_norm > 0.0 && r.rejected == 0) {
        /* Rows straddle slices: each is scaled by the rank whose slice holds its first
         * weight, once the whole updated row is published, and published again. */
        nn_max_norm(m, t->cfg->max_norm, t->sums.lo, t->sums.hi);
        start = MPI_Wtime();
        nn_reduce_publish(&t->sums);
        t->allreduce_seconds += MPI_Wtime() - start;
    }
    return r;
}

NnEvalResult nn_trainer_evaluate(NnTrainer *t, NnSplit which)
{
    NnModel *m = &t->model;
    NnEvalOptions o = {.comm = t->comm,
                       .exact = t->cfg->reproducible,
                       .rows_per_call = t->cfg->reproducible ? t->chunk : m->rows_cap,
                       .limit = t->eval_limit[which],
                       .target_sst = t->target_sst[which]};
    return nn_evaluate(m, which == NN_SPLIT_VALIDATION ? &t->validation : &t->test, &o);
}

void nn_trainer_free(NnTrainer *t)
{
    nn_exchange_free(&t->exchange);
    nn_model_free(&t->model);
    nn_reduce_free(&t->sums);
    free(t->exact_grads);
    nn_samples_free(&t->train);
    nn_samples_free(&t->validation);
    nn_samples_free(&t->test);
    free(t->masks);
    free(t->batch_ids);
}
