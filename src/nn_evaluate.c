#include "nnmpi/nn_evaluate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nnmpi/nn_comm.h"
#include "nnmpi/nn_fixed.h"

double nn_evaluate_limit(int64_t total, int64_t chunk)
{
    return nn_fixed_limit((total + chunk - 1) / chunk);
}

/* Rows of out:(rows, outputs) whose label is among the k largest outputs: fewer than k
 * outputs are larger than the label's. */
static int64_t count_top_k(const float *out, int outputs, const int32_t *labels, int rows,
                           int k)
{
    int64_t hits = 0;
    for (int r = 0; r < rows; r++) {
        const float *row = out + (size_t)r * outputs;
        float mine = row[labels[r]];
        int larger = 0;
        for (int j = 0; j < outputs && larger < k; j++) larger += row[j] > mine;
        hits += larger < k;
    }
    return hits;
}

NnEvalResult nn_evaluate(NnModel *m, const NnSamples *s, const NnEvalOptions *o)
{
    int64_t rec = nn_samples_record_size(s);
    int T = s->targets, C = m->outputs;
    NnTruth truth = nn_model_truth(m);
    const float *out = m->layers[m->n_layers - 1].act;
    NN_ASSERT(o->rows_per_call >= 1 && o->rows_per_call <= m->rows_cap);
    enum { LOSS, CORRECT, TOP_K, ABS_ERROR, SAMPLES, REJECTED, N_SUMS };
    int64_t exact[N_SUMS] = {0}; /* loss and absolute error in fixed point */
    double sums[N_SUMS] = {0.0}; /* plain mode */
    for (int64_t first = 0; first < s->count; first += o->rows_per_call) {
        int rows = (int)(s->count - first < o->rows_per_call ? s->count - first
                                                             : o->rows_per_call);
        for (int i = 0; i < rows; i++)
            nn_record_decode(s, s->records + (first + i) * rec, m->input + (size_t)i * s->features,
                             &m->labels[i], T ? m->targets + (size_t)i * T : NULL);
        int64_t correct = 0, top_k = 0;
        /* No dropout masks: evaluation sees the whole network. */
        double loss = nn_model_forward(m, m->input, NULL, &truth, rows, &correct);
        double abs_error = T ? nn_model_abs_error(m, m->targets, rows) : 0.0;
        if (!T && o->top_k > 0) top_k = count_top_k(out, C, m->labels, rows, o->top_k);
        if (!T && (o->confusion || o->predicted))
            for (int i = 0; i < rows; i++) {
                int predicted = nn_argmax(out + (size_t)i * C, C);
                if (o->confusion) o->confusion[(size_t)m->labels[i] * C + predicted]++;
                if (o->predicted) o->predicted[first + i] = predicted;
            }
        exact[CORRECT] += correct;
        exact[TOP_K] += top_k;
        exact[REJECTED] += nn_fixed_add_double(&exact[LOSS], loss, o->limit) +
                           nn_fixed_add_double(&exact[ABS_ERROR], abs_error, o->limit);
        exact[SAMPLES] += rows;
        sums[LOSS] += loss;
        sums[CORRECT] += (double)correct;
        sums[TOP_K] += (double)top_k;
        sums[ABS_ERROR] += abs_error;
        sums[SAMPLES] += rows;
    }
    if (o->exact) {
        NN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, exact, N_SUMS, MPI_INT64_T, MPI_SUM, o->comm));
        sums[LOSS] = exact[REJECTED] ? NAN : nn_fixed_to_double(exact[LOSS]);
        sums[ABS_ERROR] = exact[REJECTED] ? NAN : nn_fixed_to_double(exact[ABS_ERROR]);
        sums[CORRECT] = (double)exact[CORRECT];
        sums[TOP_K] = (double)exact[TOP_K];
        sums[SAMPLES] = (double)exact[SAMPLES];
    } else {
        NN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, sums, N_SUMS - 1, MPI_DOUBLE, MPI_SUM, o->comm));
    }
    if (!T && o->confusion)
        NN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, o->confusion, C * C, MPI_INT64_T, MPI_SUM,
                                   o->comm));
    double n = sums[SAMPLES];
    NnEvalResult r = {.samples = (int64_t)n, .top_k_accuracy = NAN, .rmse = NAN, .mae = NAN,
                      .r2 = NAN};
    r.mean_loss = n > 0 ? sums[LOSS] / n : NAN;
    r.accuracy = n > 0 && !T ? sums[CORRECT] / n : NAN;
    if (n > 0 && !T && o->top_k > 0) r.top_k_accuracy = sums[TOP_K] / n;
    if (T && n > 0) {
        double values = n * T, squares = 2.0 * sums[LOSS]; /* the loss is 1/2 the squares */
        r.rmse = sqrt(squares / values);
        r.mae = sums[ABS_ERROR] / values;
        r.r2 = 1.0 - squares / o->target_sst;
    }
    return r;
}

NnStatus nn_evaluate_target_spread(MPI_Comm comm, int exact, const NnSamples *s, double *sst,
                                   char err[NN_ERR_LEN])
{
    int T = s->targets;
    int64_t rec = nn_samples_record_size(s);
    double limit = nn_fixed_limit(s->total > 0 ? s->total : 1);
    int64_t *fixed = calloc((size_t)T + 1, sizeof *fixed); /* sums of t; rejected terms */
    double *mean = calloc((size_t)T, sizeof *mean);
    NnStatus status = fixed && mean ? NN_OK : nn_fail(err, "out of memory for %d targets", T);
    status = nn_comm_agree(comm, status, err);
    if (status != NN_OK) goto done;
    float value;
    for (int64_t i = 0; i < s->count; i++)
        for (int k = 0; k < T; k++) {
            memcpy(&value, s->records + i * rec + rec - s->label_bytes + 4 * k, sizeof value);
            fixed[T] += nn_fixed_add_double(&fixed[k], value, limit);
            mean[k] += value;
        }
    if (exact) {
        NN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, fixed, T + 1, MPI_INT64_T, MPI_SUM, comm));
        for (int k = 0; k < T; k++) mean[k] = nn_fixed_to_double(fixed[k]);
    } else {
        NN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, mean, T, MPI_DOUBLE, MPI_SUM, comm));
    }
    for (int k = 0; k < T; k++) mean[k] /= (double)(s->total > 0 ? s->total : 1);
    int64_t spread[2] = {0, 0}; /* rejected terms; the exact sum of squares */
    double plain = 0.0;
    for (int64_t i = 0; i < s->count; i++) {
        double square = 0.0;
        for (int k = 0; k < T; k++) {
            memcpy(&value, s->records + i * rec + rec - s->label_bytes + 4 * k, sizeof value);
            square += (value - mean[k]) * (value - mean[k]);
        }
        spread[0] += nn_fixed_add_double(&spread[1], square, limit);
        plain += square;
    }
    if (exact) {
        NN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, spread, 2, MPI_INT64_T, MPI_SUM, comm));
        *sst = spread[0] || fixed[T] ? NAN : nn_fixed_to_double(spread[1]);
    } else {
        NN_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, &plain, 1, MPI_DOUBLE, MPI_SUM, comm));
        *sst = plain;
    }
    if (s->total == 0) *sst = NAN;
done:
    free(fixed);
    free(mean);
    return status;
}

