/* Files that appear whole or not at all: write to a temporary name next to the final one,
 * then commit (fsync the file, rename it into place, fsync the directory): nn_atomic_write,
 * for bytes held in memory. Also: only regular files are opened as input. */
#ifndef NNMPI_NN_ATOMIC_FILE_H
#define NNMPI_NN_ATOMIC_FILE_H

#include <stddef.h>

#include "nnmpi/nn_status.h"

/* The temporary name for final_path: "final_path.tmp.PID". */
void nn_atomic_temp_name(const char *final_path, char *temp_path, size_t size);

/* NN_OK when path names a regular file (after links) that can be read; else err says
 * "PATH: cannot open WHAT: reason" (WHAT may be NULL), the reason "not a regular file" for
 * anything else. Opening a FIFO or a
 * device as data could block for ever: only regular files are opened. */
NnStatus nn_file_check_regular(const char *path, const char *what, char err[NN_ERR_LEN]);

/* Writes the size bytes at data to final_path atomically: creates the temporary name
 * (mode 0666 less umask), writes it with a write() loop, fsyncs and closes it, renames it
 * into place and fsyncs the directory. On failure err names the file and gives the errno
 * text ("DIR/x.h5.tmp.123: cannot write: No space left on device"), the temporary file is
 * removed and final_path is untouched.
 * Test faults (nn_fault.h): when write_enospc fires for this file, the write fails with
 * ENOSPC after half the bytes; stall_halfway != 0 (stall_checkpoint) writes half the bytes
 * and then waits forever, never returning, for the process to be killed. */
NnStatus nn_atomic_write(const char *final_path, const void *data, size_t size,
                         int stall_halfway, char err[NN_ERR_LEN]);

/* Commits temp_path, a file the caller wrote and closed (e.g. HDF5 through its own driver),
 * as final_path: fsyncs it, renames it into place and fsyncs the directory. On failure err
 * names the file with the errno text and temp_path is removed. */
NnStatus nn_atomic_commit(const char *temp_path, const char *final_path, char err[NN_ERR_LEN]);

/* Creates directory path and its missing parents (mode 0777 less umask). */
NnStatus nn_make_dirs(const char *path, char err[NN_ERR_LEN]);

#endif
