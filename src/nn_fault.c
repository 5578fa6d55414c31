#include "nnmpi/nn_fault.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    COUNTED, /* one optional argument N >= 1: fires from the Nth event on */
    KEYED    /* fires when the caller's keys equal the arguments */
} Kind;

typedef struct {
    const char *name;
    Kind kind;
    int n_args; /* COUNTED: at most 1; KEYED: exactly n_args keys */
} Point;

/* One row per NnFault, in its order. */
static const Point POINTS[NN_FAULT_COUNT] = {
    [NN_FAULT_WRITE_ENOSPC] = {"write_enospc", COUNTED, 1},
    [NN_FAULT_STALL_CHECKPOINT] = {"stall_checkpoint", KEYED, 1},
    [NN_FAULT_ALLOC_FAIL] = {"alloc_fail", KEYED, 2},
};

typedef struct {
    int on;
    int64_t args[NN_FAULT_MAX_ARGS];
    int64_t events; /* COUNTED: events seen so far */
} Active;

/* The configured faults. Global because a test hook must be reachable from any depth of
 * library code without a parameter threaded through every call; set once by main(). */
static Active active[NN_FAULT_COUNT];
static int my_rank; /* for alloc_fail */

static NnStatus bad_item(const char *item, size_t len, const char *what, char err[NN_ERR_LEN])
{
    return nn_fail(err, "%s: '%.*s': %s", NN_FAULT_ENV, (int)len, item, what);
}

/* Parses one item "NAME[@ARG[:ARG...]]" of length len into configured. */
static NnStatus parse_item(const char *item, size_t len, Active *configured,
                           char err[NN_ERR_LEN])
{
    size_t name_len = 0;
    while (name_len < len && item[name_len] != '@') name_len++;
    int point = -1;
    for (int p = 0; p < NN_FAULT_COUNT; p++)
        if (strlen(POINTS[p].name) == name_len && memcmp(POINTS[p].name, item, name_len) == 0)
            point = p;
    if (point < 0) {
        char known[256] = "";
        for (int p = 0; p < NN_FAULT_COUNT; p++)
            snprintf(known + strlen(known), sizeof known - strlen(known), "%s%s",
                     p ? ", " : "", POINTS[p].name);
        char what[320];
        snprintf(what, sizeof what, "unknown fault point (known: %s)", known);
        return bad_item(item, len, what, err);
    }
    const Point *P = &POINTS[point];
    if (configured[point].on) return bad_item(item, len, "fault point given twice", err);
    int64_t args[NN_FAULT_MAX_ARGS] = {P->kind == COUNTED ? 1 : 0};
    int n = 0;
    for (size_t at = name_len; at < len;) { /* item[at] is '@' or ':' */
        char digits[24];
        size_t end = at + 1;
        while (end < len && item[end] != ':') end++;
        size_t n_digits = end - at - 1;
        char *stop = NULL;
        if (n_digits > 0 && n_digits < sizeof digits) {
            memcpy(digits, item + at + 1, n_digits);
            digits[n_digits] = '\0';
            errno = 0;
            if (digits[0] >= '0' && digits[0] <= '9' && n < NN_FAULT_MAX_ARGS)
                args[n] = strtoll(digits, &stop, 10);
        }
        if (!stop || *stop != '\0' || errno != 0)
            return bad_item(item, len, "expected NAME or NAME@N[:N...], each N an integer >= 0",
                            err);
        n++;
        at = end;
    }
    char what[96];
    if (P->kind == COUNTED && (n > 1 || args[0] < 1)) {
        snprintf(what, sizeof what, "expected %s or %s@N with N >= 1", P->name, P->name);
        return bad_item(item, len, what, err);
    }
    if (P->kind == KEYED && n != P->n_args) {
        snprintf(what, sizeof what, "%s takes %d argument(s) after '@'", P->name, P->n_args);
        return bad_item(item, len, what, err);
    }
    configured[point].on = 1;
    memcpy(configured[point].args, args, sizeof args);
    return NN_OK;
}

NnStatus nn_fault_configure(const char *spec, char err[NN_ERR_LEN])
{
    Active configured[NN_FAULT_COUNT];
    memset(configured, 0, sizeof configured);
    for (const char *item = spec; item && *item;) {
        size_t len = strcspn(item, ",");
        NnStatus status = len == 0 ? nn_fail(err, "%s: '%s': empty item", NN_FAULT_ENV, spec)
                                   : parse_item(item, len, configured, err);
        if (status != NN_OK) {
            memset(active, 0, sizeof active);
            return status;
        }
        item += len;
        if (*item == ',') item++;
    }
    memcpy(active, configured, sizeof active);
    return NN_OK;
}

int nn_fault_hit(NnFault point, const int64_t *keys)
{
    NN_ASSERT(point >= 0 && point < NN_FAULT_COUNT);
    if (!active[point].on) return 0;
    if (POINTS[point].kind == COUNTED) return ++active[point].events >= active[point].args[0];
    NN_ASSERT(keys != NULL);
    for (int i = 0; i < POINTS[point].n_args; i++)
        if (keys[i] != active[point].args[i]) return 0;
    return 1;
}

void nn_fault_set_rank(int rank)
{
    my_rank = rank;
}

void *nn_fault_alloc(NnAllocStage stage, void *p)
{
    const int64_t keys[2] = {my_rank, stage};
    if (!nn_fault_hit(NN_FAULT_ALLOC_FAIL, keys)) return p;
    free(p);
    return NULL;
}

const char *nn_fault_name(NnFault point)
{
    NN_ASSERT(point >= 0 && point < NN_FAULT_COUNT);
    return POINTS[point].name;
}
