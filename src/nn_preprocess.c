#include "nnmpi/nn_preprocess.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "nnmpi/nn_hash.h"

static const struct {
    const char *name;
    NnFeatureType type;
} FEATURE_TYPES[] = {{"uint8", NN_FEATURES_UINT8}, {"float32", NN_FEATURES_FLOAT32}};
#define N_FEATURE_TYPES (sizeof FEATURE_TYPES / sizeof FEATURE_TYPES[0])

const char *nn_feature_type_name(NnFeatureType type)
{
    for (size_t i = 0; i < N_FEATURE_TYPES; i++)
        if (FEATURE_TYPES[i].type == type) return FEATURE_TYPES[i].name;
    return "?";
}

int nn_feature_type_parse(const char *name)
{
    for (size_t i = 0; i < N_FEATURE_TYPES; i++)
        if (strcmp(FEATURE_TYPES[i].name, name) == 0) return (int)FEATURE_TYPES[i].type;
    return -1;
}

float nn_preprocess_default_scale(NnFeatureType type)
{
    return type == NN_FEATURES_UINT8 ? NN_UINT8_SCALE : 1.0f;
}

NnPreprocess nn_preprocess_default(int features)
{
    return (NnPreprocess){.type = NN_FEATURES_UINT8, .features = features,
                          .scale = NN_UINT8_SCALE};
}

/* A checked copy of values[0..n) (std: zeros made 1), or NULL with err set. */
static float *checked_copy(const float *values, int n, int is_std, const char *where,
                           char err[NN_ERR_LEN])
{
    for (int j = 0; j < n; j++)
        if (!isfinite(values[j]) || (is_std && values[j] < 0.0f)) {
            nn_fail(err, "%s: %s[%d] is %g, expected a finite number%s", where,
                    is_std ? "std" : "mean", j, (double)values[j], is_std ? " >= 0" : "");
            return NULL;
        }
    float *copy = malloc(sizeof(float) * (size_t)(n > 0 ? n : 1));
    if (!copy) {
        nn_fail(err, "out of memory for %d %s values", n, is_std ? "std" : "mean");
        return NULL;
    }
    for (int j = 0; j < n; j++) copy[j] = is_std && values[j] == 0.0f ? 1.0f : values[j];
    return copy;
}

NnStatus nn_preprocess_set(NnPreprocess *p, const float *mean, const float *std,
                           const char *where, char err[NN_ERR_LEN])
{
    free(p->mean);
    free(p->std);
    p->mean = p->std = NULL;
    if (mean && !(p->mean = checked_copy(mean, p->features, 0, where, err))) return NN_ERR;
    if (std && !(p->std = checked_copy(std, p->features, 1, where, err))) {
        free(p->mean);
        p->mean = NULL;
        return NN_ERR;
    }
    return NN_OK;
}

NnStatus nn_preprocess_copy(NnPreprocess *dst, const NnPreprocess *src, char err[NN_ERR_LEN])
{
    *dst = (NnPreprocess){.type = src->type, .features = src->features, .scale = src->scale};
    return nn_preprocess_set(dst, src->mean, src->std, "preprocessing", err);
}

static int same_floats(const float *a, const float *b, int n)
{
    if (!a || !b) return a == b;
    return memcmp(a, b, sizeof(float) * (size_t)n) == 0;
}

int nn_preprocess_equal(const NnPreprocess *a, const NnPreprocess *b)
{
    return a->type == b->type && a->features == b->features &&
           memcmp(&a->scale, &b->scale, sizeof a->scale) == 0 &&
           same_floats(a->mean, b->mean, a->features) && same_floats(a->std, b->std, a->features);
}

uint64_t nn_preprocess_hash(const NnPreprocess *p)
{
    if (!p->mean && !p->std) return 0;
    uint64_t h = NN_HASH_START;
    const float *arrays[2] = {p->mean, p->std};
    for (int i = 0; i < 2; i++) {
        unsigned char present = arrays[i] != NULL;
        h = nn_hash_update(h, &present, 1);
        if (present) h = nn_hash_update(h, arrays[i], sizeof(float) * (size_t)p->features);
    }
    return nn_hash_finish(h);
}

void nn_preprocess_describe(const NnPreprocess *p, char *out, size_t size)
{
    char hex[17];
    nn_hash_hex(nn_preprocess_hash(p), hex);
    snprintf(out, size, "%s * %.9g%s%s%s%s", nn_feature_type_name(p->type), (double)p->scale,
             p->mean ? " - mean" : "", p->std ? " / std" : "",
             p->mean || p->std ? " (hash " : "", p->mean || p->std ? hex : "");
    if (p->mean || p->std) {
        size_t used = strlen(out);
        if (used + 1 < size) snprintf(out + used, size - used, ")");
    }
}

void nn_preprocess_free(NnPreprocess *p)
{
    free(p->mean);
    free(p->std);
    p->mean = p->std = NULL;
}
