/* HDF5 helpers shared by the dataset and checkpoint modules. Every helper checks every
 * HDF5 call and reports failures as "FILE: OBJECT: what" in err. */
#ifndef NNMPI_NN_H5_H
#define NNMPI_NN_H5_H

#include <hdf5.h>
#include <stddef.h>
#include <stdint.h>

#include "nnmpi/nn_status.h"

/* Stops HDF5 from printing its own error stacks; nn-mpi reports errors itself. */
void nn_h5_silence(void);

/* Names obj for messages: "FILE: /PATH". */
void nn_h5_describe(hid_t obj, char *out, size_t size);

/* Files written whole: HDF5 builds the file in memory (core driver, no backing store) and
 * nn_h5_save_memory_file writes its bytes with nn_atomic_write. HDF5 itself then never
 * writes to disk, so a full disk or an I/O error is one write() error with its errno, every
 * HDF5 id is closed by then, and HDF5 has no half-written file to trip over at exit. */

/* Creates an HDF5 file in memory only, named "PATH (in memory)" in messages
 * (nn_h5_describe); nothing on disk is touched. Returns the file id, or -1 with err set. */
hid_t nn_h5_create_memory_file(const char *path, char err[NN_ERR_LEN]);

/* Closes `file` (from nn_h5_create_memory_file; any group or dataset still open in it is
 * closed too) and writes its image to path atomically (nn_atomic_write, which documents
 * stall_halfway). The file is closed whether or not this succeeds. Peak memory: the file
 * twice over. */
NnStatus nn_h5_save_memory_file(hid_t file, const char *path, int stall_halfway,
                                char err[NN_ERR_LEN]);

/* Opens the HDF5 file image[0..size) in memory, read-only (the core driver; HDF5 keeps its
 * own copy), named `name` in messages. Returns the file id, or -1 with err set. */
hid_t nn_h5_open_image(const void *image, size_t size, const char *name, char err[NN_ERR_LEN]);

/* Opens the regular file at path read-only, in this process alone (no MPI); -1 with err
 * naming it ("PATH: cannot open WHAT: ...", "PATH: not an HDF5 file, or damaged"). */
hid_t nn_h5_open_file(const char *path, const char *what, char err[NN_ERR_LEN]);

/* Scalar and small attributes on a group or dataset. */
NnStatus nn_h5_attr_write_i64(hid_t obj, const char *name, int64_t value, char err[NN_ERR_LEN]);
NnStatus nn_h5_attr_write_f64(hid_t obj, const char *name, double value, char err[NN_ERR_LEN]);
NnStatus nn_h5_attr_write_text(hid_t obj, const char *name, const char *text,
                               char err[NN_ERR_LEN]);
NnStatus nn_h5_attr_write_i64s(hid_t obj, const char *name, const int64_t *values, int count,
                               char err[NN_ERR_LEN]);

NnStatus nn_h5_attr_read_i64(hid_t obj, const char *name, int64_t *value, char err[NN_ERR_LEN]);
NnStatus nn_h5_attr_read_f64(hid_t obj, const char *name, double *value, char err[NN_ERR_LEN]);
/* Reads a fixed-length string attribute into a new buffer (caller frees *text). */
NnStatus nn_h5_attr_read_text(hid_t obj, const char *name, char **text, char err[NN_ERR_LEN]);
/* Reads a 1-D integer attribute of at most max entries; *count gets its length. */
NnStatus nn_h5_attr_read_i64s(hid_t obj, const char *name, int64_t *values, int max, int *count,
                              char err[NN_ERR_LEN]);

/* True when the group or dataset at path (relative to loc) exists, checking each link. */
int nn_h5_exists(hid_t loc, const char *path);

/* Writes a float32 dataset of the given shape (rank <= 2). */
NnStatus nn_h5_write_f32(hid_t loc, const char *name, int rank, const hsize_t *dims,
                         const float *data, char err[NN_ERR_LEN]);

/* Reads a float32 dataset, which must have exactly the given shape. */
NnStatus nn_h5_read_f32(hid_t loc, const char *name, int rank, const hsize_t *dims, float *data,
                        char err[NN_ERR_LEN]);

#endif
