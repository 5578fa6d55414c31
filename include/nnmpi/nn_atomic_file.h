/* Files that appear whole or not at all: write to a temporary name next to the final one,
 * then commit (fsync the file, rename it into place, fsync the directory). */
#ifndef NNMPI_NN_ATOMIC_FILE_H
#define NNMPI_NN_ATOMIC_FILE_H

#include <stddef.h>

#include "nnmpi/nn_status.h"

/* The temporary name for final_path: "final_path.tmp.PID". */
void nn_atomic_temp_name(const char *final_path, char *temp_path, size_t size);

/* Makes the finished file at temp_path durable and renames it to final_path. On failure
 * temp_path is removed and final_path is untouched. */
NnStatus nn_atomic_commit(const char *temp_path, const char *final_path, char err[NN_ERR_LEN]);

/* NN_OK when path names a regular file (after links) that can be read; else err says
 * "PATH: cannot open WHAT: reason" (WHAT may be NULL), the reason "not a regular file" for
 * anything else. Opening a FIFO or a
 * device as data could block for ever: only regular files are opened. */
NnStatus nn_file_check_regular(const char *path, const char *what, char err[NN_ERR_LEN]);

/* Creates directory path and its missing parents (mode 0777 less umask). */
NnStatus nn_make_dirs(const char *path, char err[NN_ERR_LEN]);

#endif
