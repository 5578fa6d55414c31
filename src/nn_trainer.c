#include "nnmpi/nn_trainer.h"

#include <math.h>
#include <string.h>

#include "nnmpi/nn_comm.h"
#include "nnmpi/nn_sampler.h"

NnStatus nn_trainer_init(NnTrainer *t, MPI_Comm comm, const NnConfig *cfg, NnSamples *train,
                         NnSamples *test, char err[NN_ERR_LEN])
{
    memset(t, 0, sizeof *t);
    t->comm = comm;
    t->cfg = cfg;
    NN_MPI_CHECK(MPI_Comm_rank(comm, &t->rank));
    NN_MPI_CHECK(MPI_Comm_size(comm, &t->size));
    t->train = *train;
    t->test = *test;
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    t->exchange.record_type = MPI_DATATYPE_NULL;

    NnStatus status = NN_OK;
    if (t->train.features != t->test.features || t->train.classes != t->test.classes)
        status = nn_fail(err, "train samples have %d features and %d classes, test samples %d "
                              "and %d",
                         t->train.features, t->train.classes, t->test.features,
                         t->test.classes);
    else if (t->train.total == 0)
        status = nn_fail(err, "the training split is empty");
    if (status == NN_OK) {
        t->steps_per_epoch = nn_sampler_steps(t->train.total, cfg->batch_size);
        int64_t local_cap = (cfg->batch_size + t->size - 1) / t->size;
        int rows_cap = (int)(local_cap > NN_EVAL_ROWS ? local_cap : NN_EVAL_ROWS);
        status = nn_model_init(&t->model, t->train.features, &cfg->hidden, t->train.classes,
                               cfg->activation, cfg->loss, rows_cap, err);
    }
    if (status == NN_OK) {
        nn_model_init_weights(&t->model, cfg->init, cfg->seed);
        status = nn_sgd_init(&t->sgd, &t->model, cfg->momentum, cfg->weight_decay, err);
    }
    status = nn_comm_agree(comm, status, err);
    if (status == NN_OK)
        status = nn_exchange_init(&t->exchange, comm, &t->train, cfg->batch_size, cfg->seed, err);
    if (status != NN_OK) nn_trainer_free(t);
    return status;
}

void nn_trainer_begin_epoch(NnTrainer *t, int64_t epoch)
{
    nn_exchange_epoch(&t->exchange, epoch);
}

unsigned nn_trainer_step(NnTrainer *t, int64_t step, float lr, unsigned votes, double *loss_sum,
                         int64_t *samples)
{
    NnModel *m = &t->model;
    int rows = nn_exchange_batch(&t->exchange, step, m->input, m->labels);
    double loss = nn_model_forward(m, m->input, m->labels, rows, NULL);
    nn_model_backward(m, m->input, m->labels, rows);
    float *extra = m->grads + m->n_params;
    extra[NN_GRAD_LOSS_SUM] = (float)loss;
    extra[NN_GRAD_COUNT] = (float)rows;
    extra[NN_GRAD_VOTE_STOP] = (votes & NN_VOTE_STOP) ? 1.0f : 0.0f;
    extra[NN_GRAD_VOTE_CHECKPOINT] = (votes & NN_VOTE_CHECKPOINT) ? 1.0f : 0.0f;
    NN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, m->grads, (int)(m->n_params + NN_GRAD_EXTRA),
                               MPI_FLOAT, MPI_SUM, t->comm));
    int64_t count = (int64_t)extra[NN_GRAD_COUNT];
    NN_ASSERT(count >= 1);
    nn_sgd_step(&t->sgd, m, lr, 1.0f / (float)count);
    *loss_sum = extra[NN_GRAD_LOSS_SUM];
    *samples = count;
    return (extra[NN_GRAD_VOTE_STOP] > 0.0f ? NN_VOTE_STOP : 0u) |
           (extra[NN_GRAD_VOTE_CHECKPOINT] > 0.0f ? NN_VOTE_CHECKPOINT : 0u);
}

void nn_trainer_evaluate(NnTrainer *t, double *mean_loss, double *accuracy)
{
    NnModel *m = &t->model;
    const NnSamples *s = &t->test;
    int64_t rec = nn_samples_record_size(s);
    double sums[2] = {0.0, 0.0}; /* loss sum, correct count */
    for (int64_t first = 0; first < s->count; first += m->rows_cap) {
        int rows = (int)(s->count - first < m->rows_cap ? s->count - first : m->rows_cap);
        for (int i = 0; i < rows; i++)
            nn_record_decode(s->records + (first + i) * rec, s->features,
                             m->input + (size_t)i * s->features, &m->labels[i]);
        int64_t correct = 0;
        sums[0] += nn_model_forward(m, m->input, m->labels, rows, &correct);
        sums[1] += (double)correct;
    }
    NN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, sums, 2, MPI_DOUBLE, MPI_SUM, t->comm));
    *mean_loss = s->total ? sums[0] / (double)s->total : NAN;
    *accuracy = s->total ? sums[1] / (double)s->total : NAN;
}

void nn_trainer_free(NnTrainer *t)
{
    nn_exchange_free(&t->exchange);
    nn_sgd_free(&t->sgd);
    nn_model_free(&t->model);
    nn_samples_free(&t->train);
    nn_samples_free(&t->test);
}
