/* Where a run starts: fresh, or from a checkpoint. Rank 0 decides before any data is
 * loaded, from the config, the dataset's shape and the run directory (nn_rundir.h), which
 * it has locked:
 * - a fresh start (no --resume) makes a new version_N; in a directory that already holds a
 *   run it is refused unless new_run is set;
 * - --resume auto picks the newest run whose newest valid checkpoint has this config's
 *   fixed settings, and says which; damaged checkpoints and files of other runs are
 *   skipped with a warning; when runs exist but none matches, the difference is named and
 *   the start refused; when none has a valid checkpoint, the newest run (one that ended
 *   before its first checkpoint) starts again in place, with its id, or a new run starts;
 * - --resume FILE continues that checkpoint's run, in its version_N when the directory has
 *   it, else in a new one (keeping the run id);
 * - a named run (run_name, --run-name: DIR/NAME instead of a version_N) starts fresh when
 *   DIR/NAME does not exist (whatever else DIR holds) and is refused when it does; with
 *   --resume auto it continues DIR/NAME, or starts it when it has no valid checkpoint.
 * Refusals return NN_REFUSED. */
#ifndef NNMPI_NN_RESUME_H
#define NNMPI_NN_RESUME_H

#include <stdio.h>

#include "nnmpi/nn_checkpoint.h"
#include "nnmpi/nn_config.h"
#include "nnmpi/nn_dataset.h"
#include "nnmpi/nn_runlog.h"
#include "nnmpi/nn_rundir.h"
#include "nnmpi/nn_status.h"

#define NN_FIXED_SETTINGS_LEN 1024

/* The settings that fix the sample order and the architecture, which a resume must not
 * change: one "key = value" line each. */
void nn_resume_fixed_settings(const NnConfig *cfg, const NnDataShape *shape,
                              char out[NN_FIXED_SETTINGS_LEN]);

/* NN_OK when stored equals ours; else NN_REFUSED, err naming the first differing line:
 * "PATH: [model] hidden is 64, 32 in the checkpoint but 32 in this run; ...". Settings that
 * an older checkpoint lacks count as equal when ours are 0 (as [data] validation). */
NnStatus nn_resume_compare(const char *path, const char *stored, const char *ours,
                           char err[NN_ERR_LEN]);

typedef struct {
    int resumed;               /* 1: ck holds the checkpoint to continue from */
    char from[NN_PATH_LEN + 128]; /* its path */
    NnCheckpoint ck;
    NnCheckpointSet own;       /* this run's valid checkpoints, for retention */
} NnStart;

/* Rank 0. how: NULL (fresh), "auto" or a checkpoint path; run_name: NULL or a checked
 * name (nn_rundir_check_name). rd: locked, or with an empty
 * dir when the run has no directory. On success rd names this run's version_N and run id;
 * out->ck must be freed with nn_resume_free. Notes and warnings go to log (stdout) and
 * stderr. */
NnStatus nn_resume_choose(const char *how, int new_run, const char *run_name,
                          const char *fixed_settings, NnRunDir *rd, NnRunLog *log,
                          NnStart *out, char err[NN_ERR_LEN]);

void nn_resume_free(NnStart *start);

#endif
