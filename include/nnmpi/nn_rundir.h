/* Run directories. The config's [run] dir holds runs, one subdirectory each, and a lock:
 *   DIR/lock          advisory lock (fcntl) held by the live run's rank 0 while it runs;
 *                     its text names the holder: host, pid, run id, start time (a named
 *                     run locks DIR/NAME/lock instead, so that named runs, such as one per
 *                     Slurm job, can share DIR)
 *   DIR/version_N/    one run (N = 0, 1, ...: one more than the highest before it), or
 *   DIR/NAME/         a run named on the command line (--run-name, as the Slurm scripts do):
 *     run_id          the run's id, one line
 *     config.ini      the run's resolved config (rewritten at each start or resume)
 *     metrics.jsonl   its events (JSON Lines, appended)
 *     ckpt-<step>.h5  its checkpoints (nn_checkpoint.h); best.h5 links to the best one
 * A run id ("20261129-101608-3fa2c1": UTC start time and 24 random bits) is made at a fresh
 * start and kept by every resume. The lock is released by the kernel when the process ends,
 * however it ends, so a killed run leaves no stale lock. Rank 0 alone calls these. */
#ifndef NNMPI_NN_RUNDIR_H
#define NNMPI_NN_RUNDIR_H

#include "nnmpi/nn_config.h"
#include "nnmpi/nn_status.h"

#define NN_RUN_ID_LEN 32
#define NN_RUN_NAME_LEN 64

typedef struct {
    char dir[NN_PATH_LEN];          /* the directory of runs ([run] dir) */
    int lock_fd;                    /* -1: not locked */
    char name[NN_RUN_NAME_LEN];     /* this run's subdirectory; "": none chosen yet */
    char path[NN_PATH_LEN + NN_RUN_NAME_LEN + 2]; /* DIR/NAME */
    char run_id[NN_RUN_ID_LEN];
    int dry; /* a dry run (nn_rundir_check): choose and name, but create and write nothing */
} NnRunDir;

/* NN_OK when name can name a run's subdirectory: 1 to 63 letters, digits, '.', '_' or
 * '-', not starting with '.'. */
NnStatus nn_rundir_check_name(const char *name, char err[NN_ERR_LEN]);

/* Creates dir (and DIR/name for a named run; name NULL: none) if missing and takes the
 * lock, without waiting. NN_REFUSED when another live run holds it (err names the holder)
 * or when the directory cannot be created or written; NN_ERR for other failures. */
NnStatus nn_rundir_lock(NnRunDir *rd, const char *dir, const char *name, char err[NN_ERR_LEN]);

/* A dry run's nn_rundir_lock: the same refusals (another live run holds the lock; the
 * directory exists but cannot be written) without creating, locking or writing anything;
 * rd->dry is set, so that nn_rundir_create and nn_rundir_write_file write nothing either. */
NnStatus nn_rundir_check(NnRunDir *rd, const char *dir, const char *name, char err[NN_ERR_LEN]);

/* Releases the lock (also closes it on a zeroed or unlocked struct). */
void nn_rundir_unlock(NnRunDir *rd);

/* The versions N of dir's version_N subdirectories, ascending (caller frees *versions). */
NnStatus nn_rundir_versions(const char *dir, int **versions, int *count, char err[NN_ERR_LEN]);

/* True when dir holds checkpoints of an older nn-mpi (ckpt-*.h5 directly in it). */
int nn_rundir_has_loose_checkpoints(const char *dir);

/* The name of a subdirectory of dir that holds a run (a version_N, or any with a run_id
 * file) into name; 0 when there is none. */
int nn_rundir_any_run(const char *dir, char name[NN_RUN_NAME_LEN]);

/* The name of the subdirectory of dir whose run_id file says run_id into name; 0 when
 * there is none. */
int nn_rundir_find_run(const char *dir, const char *run_id, char name[NN_RUN_NAME_LEN]);

/* Makes a new run id. */
void nn_rundir_new_id(char run_id[NN_RUN_ID_LEN]);

/* Reads DIR/NAME/run_id into run_id ("" when missing or unreadable). */
void nn_rundir_read_id(const char *dir, const char *name, char run_id[NN_RUN_ID_LEN]);

/* "version_N" */
void nn_rundir_version_name(int version, char name[NN_RUN_NAME_LEN]);

/* Uses the existing DIR/NAME for run_id (a resume). */
void nn_rundir_use(NnRunDir *rd, const char *name, const char *run_id);

/* Creates DIR/NAME (name NULL: version_N, N one more than the highest) for run_id, with its
 * run_id file; an existing DIR/NAME is used as it is. */
NnStatus nn_rundir_create(NnRunDir *rd, const char *name, const char *run_id,
                          char err[NN_ERR_LEN]);

/* Writes the holder's description (this host and pid, the run id, the start time) into
 * the lock file, for a refused run to name. */
void nn_rundir_describe_holder(const NnRunDir *rd);

/* Writes text to DIR/NAME/name atomically (nn_atomic_file.h). */
NnStatus nn_rundir_write_file(const NnRunDir *rd, const char *name, const char *text,
                              char err[NN_ERR_LEN]);

#endif
