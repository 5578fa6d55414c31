/* A checkpoint's model as a NumPy archive (nn-mpi export CKPT -o FILE.npz), which
 * numpy.load reads without allow_pickle. Members (.npy format 1.0, stored uncompressed):
 *   layer_L_weights  float32 (out, in)     layer_L_biases  float32 (out)
 *   layer_sizes      int64 (inputs, hidden..., outputs)
 *   activation, loss, feature_type, run_id   0-d unicode strings (dtype <U)
 *   scale            float32 0-d           mean, std  float32 (inputs), when present
 * A row v of raw stored features gives the model input ((v * scale) - mean) / std, each
 * step rounded to float32, then per layer x @ W.T + b and the activation (nn_export_onnx.h
 * has the graph). Floats and integers are written in the host's byte order, which their
 * dtype states. The same checkpoint always gives the same bytes. */
#ifndef NNMPI_NN_EXPORT_NPZ_H
#define NNMPI_NN_EXPORT_NPZ_H

#include "nnmpi/nn_checkpoint.h"
#include "nnmpi/nn_status.h"

/* Writes ck's model and preprocessing to path as a .npz archive, built in memory and
 * written atomically (nn_atomic_write). On failure err names path and the reason; path is
 * untouched. */
NnStatus nn_export_npz(const NnCheckpoint *ck, const char *path, char err[NN_ERR_LEN]);

#endif
