/* Model input preprocessing: how a stored row of features becomes the model's input row.
 * Feature j of a row, stored as v_j (uint8 or float32), enters the model as
 *     x_j = v_j * scale                        without mean and std
 *     x_j = (v_j * scale - mean_j) / std_j     with them (a missing one: mean 0, std 1)
 * each operation rounded to float32 (no fused multiply-add), so that numpy's float32
 * (v * scale - mean) / std gives the same bits. A std of 0 counts as 1. The dataset file
 * states it (nn_dataset.h: the images' `scale` attribute, the root datasets /mean and
 * /std); checkpoints store it with the model (nn_checkpoint.h), so that every tool that
 * applies the model applies the same. The trainer applies it once per sample per step,
 * while it decodes the batch (nn_exchange_batch), allocating nothing. */
#ifndef NNMPI_NN_PREPROCESS_H
#define NNMPI_NN_PREPROCESS_H

#include <stdint.h>
#include <string.h>

#include "nnmpi/nn_status.h"

/* How a row's features are stored: one byte each, or a float32 each. */
typedef enum { NN_FEATURES_UINT8, NN_FEATURES_FLOAT32 } NnFeatureType;

/* The scale of uint8 features when the file states none: [0, 255] to [0, 1]. */
#define NN_UINT8_SCALE (1.0f / 255.0f)

typedef struct {
    NnFeatureType type;
    int features;
    float scale;
    float *mean; /* (features), or NULL: no mean; owned */
    float *std;  /* (features), or NULL: no std; zeros already made 1; owned */
} NnPreprocess;

/* "uint8" or "float32"; nn_feature_type_parse returns -1 for another name. */
const char *nn_feature_type_name(NnFeatureType type);
int nn_feature_type_parse(const char *name);

/* Bytes a stored feature takes. */
static inline int nn_feature_bytes(NnFeatureType type)
{
    return type == NN_FEATURES_UINT8 ? 1 : 4;
}

/* What a file or checkpoint without any statement means: uint8 features scaled by 1/255,
 * no mean, no std (nothing to free). */
NnPreprocess nn_preprocess_default(int features);

/* The default scale of a feature type: NN_UINT8_SCALE for uint8, 1 for float32. */
float nn_preprocess_default_scale(NnFeatureType type);

/* Takes mean and std (each (features) floats, or NULL; copied) after checking them:
 * finite values, std >= 0 (0 becomes 1). err names `where` and the first bad entry. */
NnStatus nn_preprocess_set(NnPreprocess *p, const float *mean, const float *std,
                           const char *where, char err[NN_ERR_LEN]);

/* A deep copy into *dst (which owns its arrays afterwards). */
NnStatus nn_preprocess_copy(NnPreprocess *dst, const NnPreprocess *src, char err[NN_ERR_LEN]);

/* 1 when both transform every row alike (type, features, scale, mean and std bits). */
int nn_preprocess_equal(const NnPreprocess *a, const NnPreprocess *b);

/* A hash (nn_hash.h) of the mean and std values; 0 when there are neither. */
uint64_t nn_preprocess_hash(const NnPreprocess *p);

/* One line for logs and --inspect: "uint8 * 0.00392156886, mean/std (hash ...)". */
void nn_preprocess_describe(const NnPreprocess *p, char *out, size_t size);

void nn_preprocess_free(NnPreprocess *p);

/* Decodes one stored row (p->features values of p->type, at any alignment) into the model
 * input x:(features). */
static inline void nn_preprocess_apply(const NnPreprocess *p, const uint8_t *stored,
                                       float *restrict x)
{
    const int n = p->features;
    const float scale = p->scale;
    if (p->type == NN_FEATURES_UINT8) {
        for (int j = 0; j < n; j++) x[j] = stored[j] * scale;
    } else {
        memcpy(x, stored, sizeof(float) * (size_t)n);
        for (int j = 0; j < n; j++) x[j] *= scale;
    }
    const float *restrict mean = p->mean, *restrict std = p->std;
    if (mean)
        for (int j = 0; j < n; j++) x[j] -= mean[j];
    if (std)
        for (int j = 0; j < n; j++) x[j] /= std[j];
}

#endif
