/* Test fault injection: faults that tests cannot otherwise provoke on demand (a full disk,
 * a write that hangs), at named points in library code.
 *
 * The programs' main() reads one environment variable, NN_MPI_TEST_FAULT, once at start
 * and passes it to nn_fault_configure(); library code never reads the environment, it only
 * asks nn_fault_hit(). Unset or empty: no fault fires and every query is a table lookup.
 *
 * Syntax: a comma-separated list of points, each NAME or NAME@ARG[:ARG...], ARG a decimal
 * integer >= 0. The points:
 *   write_enospc[@N]       the Nth file written by nn_atomic_write or by the streaming
 *                          dataset writer (nn_dataset_writer.h) in this process, and every
 *                          later one, fails as if the disk were full (write() sets ENOSPC;
 *                          the streaming writer fails after its first block of rows);
 *                          N counts from 1, default 1 (every file). write_enospc@3: the
 *                          first two files are written, the third and later fail.
 *   stall_checkpoint@STEP  the checkpoint of global step STEP stops halfway through writing
 *                          its temporary file and waits forever, as if the process hung
 *                          or died there (tests kill it).
 *   alloc_fail@RANK:STAGE  on rank RANK, the allocation of start-up stage STAGE fails as if
 *                          memory had run out (NnAllocStage below: 1 config ... 10 hosts).
 *                          The rank reports it and every rank ends with status 1 (the
 *                          collective failure rule, nn_status.h).
 * Example: NN_MPI_TEST_FAULT=write_enospc@3,stall_checkpoint@60
 *
 * Adding a point: one NnFault value below and one row in the table in nn_fault.c (its
 * name, how many arguments it takes, and whether it counts events or matches keys). */
#ifndef NNMPI_NN_FAULT_H
#define NNMPI_NN_FAULT_H

#include <stdint.h>

#include "nnmpi/nn_status.h"

/* The environment variable the programs read. */
#define NN_FAULT_ENV "NN_MPI_TEST_FAULT"

/* The most arguments a point takes. */
#define NN_FAULT_MAX_ARGS 2

typedef enum {
    NN_FAULT_WRITE_ENOSPC,     /* counted: fires from its Nth event on */
    NN_FAULT_STALL_CHECKPOINT, /* keyed by the global step */
    NN_FAULT_ALLOC_FAIL,       /* keyed by the rank and the NnAllocStage */
    NN_FAULT_COUNT
} NnFault;

/* The start-up stages that allocate, in the order nn-mpi reaches them, for alloc_fail. */
typedef enum {
    NN_STAGE_CONFIG = 1,       /* the config file's text, on every rank */
    NN_STAGE_CONFIG_TEXT,      /* the canonical config text */
    NN_STAGE_DATASET,          /* a rank's rows of the training split */
    NN_STAGE_SPLITS,           /* the lists of training and validation rows ([data] validation) */
    NN_STAGE_MODEL,            /* activations (the parameters and optimizer state live in
                                  the gradient sums' window) */
    NN_STAGE_SUMS,             /* the gradient sums' row list (nn_reduce.h) */
    NN_STAGE_EXCHANGE,         /* the sample exchange's tables */
    NN_STAGE_EXCHANGE_BUFFERS, /* the sample exchange's send and receive buffers */
    NN_STAGE_HOSTS,            /* rank 0's list of host names */
    NN_STAGE_COUNT
} NnAllocStage;

/* Sets the faults from spec (the text of NN_MPI_TEST_FAULT; NULL or "" sets none) and
 * resets every event count. On a syntax error no fault is configured and err quotes the
 * offending part: "NN_MPI_TEST_FAULT: 'write_enospc@x': expected NAME or NAME@N[:N...]". Not thread
 * safe: call once, before any library code runs. */
NnStatus nn_fault_configure(const char *spec, char err[NN_ERR_LEN]);

/* Whether fault `point` fires at this event. For a counted point, keys is NULL and the
 * call counts one event; it fires from the configured Nth event on. For a keyed point,
 * keys holds as many values as the point takes arguments (the table in nn_fault.c); it
 * fires when they equal the configured ones. An unconfigured point never fires (and
 * counts nothing). */
int nn_fault_hit(NnFault point, const int64_t *keys);

/* The MPI rank that alloc_fail@RANK:... compares with (0 until set; main() sets it). */
void nn_fault_set_rank(int rank);

/* alloc_fail: returns p, or, when alloc_fail@RANK:STAGE names this rank and `stage`,
 * frees p and returns NULL, as if the allocation had failed. Wrap one allocation per
 * stage: `x = nn_fault_alloc(NN_STAGE_MODEL, malloc(n));`. */
void *nn_fault_alloc(NnAllocStage stage, void *p);

/* The point's name as spelled in NN_MPI_TEST_FAULT. */
const char *nn_fault_name(NnFault point);

#endif
