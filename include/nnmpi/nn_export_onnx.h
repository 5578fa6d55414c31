/* A checkpoint's model as an ONNX file (nn-mpi export CKPT -o FILE.onnx), for inference
 * outside nn-mpi. The model imports opset 13 of the default domain ("") and has IR version
 * 7 (ONNX 1.8 and later read it); the messages come from ONNX 1.12's onnx.proto
 * (third_party/onnx/), packed with protobuf-c. The graph, x:(N, F) float32 to y:(N, K):
 *   input                 (N, F) the RAW stored feature values as float32 (MNIST: 0..255)
 *   Mul  preprocess/scale x * scale (a scalar initializer)
 *   Sub  preprocess/mean  x - mean (F)      only when the checkpoint has a mean
 *   Div  preprocess/std   x / std (F)       only when it has a std (zeros already made 1)
 *   per layer L: Gemm(x, layer_L/weights (out, in), layer_L/biases (out), transB = 1),
 *        then Relu, Sigmoid or Tanh on hidden layers;
 *   the output layer then Softmax(axis = 1) for loss cross_entropy, Sigmoid for mse, and
 *        nothing for squared_error (linear outputs);
 *   output                (N, K)
 * Separate Mul, Sub and Div nodes round each step to float32, as nn_preprocess.h does.
 * The batch dimension is the symbol "N". metadata_props name the run, the checkpoint's
 * checksum and step, the architecture, the feature type and the classes (regression: the
 * targets). The same
 * checkpoint always gives the same bytes. */
#ifndef NNMPI_NN_EXPORT_ONNX_H
#define NNMPI_NN_EXPORT_ONNX_H

#include "nnmpi/nn_checkpoint.h"
#include "nnmpi/nn_status.h"

#define NN_ONNX_OPSET 13
#define NN_ONNX_IR_VERSION 7

/* Writes ck's model and preprocessing to path as an ONNX model, atomically (whole or not
 * at all: nn_atomic_write). On failure err names path and the reason; path is untouched. */
NnStatus nn_export_onnx(const NnCheckpoint *ck, const char *path, char err[NN_ERR_LEN]);

#endif
