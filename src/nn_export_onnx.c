/* ONNX export (nn_export_onnx.h). The whole ModelProto is assembled in one OnnxBuild:
 * every message, pointer array and name it needs lives in fixed arrays sized for
 * NN_MAX_LAYERS, and tensors point at the checkpoint's own arrays (float_data), so building
 * allocates one struct and packing one buffer. */
#include "nnmpi/nn_export_onnx.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nnmpi/nn_atomic_file.h"
#include "nnmpi/nn_hash.h"
#include "onnx.pb-c.h"

/* Nodes: Mul, Sub, Div, then a Gemm and at most one activation per layer. */
#define MAX_NODES (3 + 2 * NN_MAX_LAYERS)
/* Initializers: scale, mean, std, then weights and biases per layer. */
#define MAX_INITS (3 + 2 * NN_MAX_LAYERS)
#define MAX_META 12
#define NAME_LEN 48

typedef struct {
    Onnx__TypeProto type;
    Onnx__TypeProto__Tensor tensor;
    Onnx__TensorShapeProto shape;
    Onnx__TensorShapeProto__Dimension dims[2];
    Onnx__TensorShapeProto__Dimension *dim_ptrs[2];
    Onnx__ValueInfoProto info;
} Io; /* a graph input or output: float32 (N, width) */

typedef struct {
    Onnx__ModelProto model;
    Onnx__GraphProto graph;
    Onnx__OperatorSetIdProto opset;
    Onnx__OperatorSetIdProto *opset_ptrs[1];

    Onnx__NodeProto nodes[MAX_NODES];
    Onnx__NodeProto *node_ptrs[MAX_NODES];
    char *node_inputs[MAX_NODES][3];
    char *node_outputs[MAX_NODES][1];
    char node_names[MAX_NODES][NAME_LEN];
    char node_values[MAX_NODES][NAME_LEN]; /* each node's output: its name, or "output" */
    Onnx__AttributeProto attrs[MAX_NODES]; /* at most one per node */
    Onnx__AttributeProto *attr_ptrs[MAX_NODES];
    int n_nodes;

    Onnx__TensorProto inits[MAX_INITS];
    Onnx__TensorProto *init_ptrs[MAX_INITS];
    int64_t init_dims[MAX_INITS][2];
    char init_names[MAX_INITS][NAME_LEN];
    int n_inits;

    Io input, output;
    Onnx__ValueInfoProto *input_ptrs[1], *output_ptrs[1];

    Onnx__StringStringEntryProto meta[MAX_META];
    Onnx__StringStringEntryProto *meta_ptrs[MAX_META];
    char meta_values[MAX_META][128];
    int n_meta;

    char model_doc[512];
    float scale; /* the scale initializer's one value */
} OnnxBuild;

/* Adds a float32 initializer named `name` of shape dims[0..ndim) (ndim 0: a scalar)
 * holding `data` (a view: it must outlive the packing). Returns its name. */
static char *add_init(OnnxBuild *b, const char *name, const float *data, int ndim,
                      int64_t d0, int64_t d1)
{
    NN_ASSERT(b->n_inits < MAX_INITS);
    int i = b->n_inits++;
    Onnx__TensorProto *t = &b->inits[i];
    *t = (Onnx__TensorProto)ONNX__TENSOR_PROTO__INIT;
    snprintf(b->init_names[i], NAME_LEN, "%s", name);
    t->name = b->init_names[i];
    b->init_dims[i][0] = d0;
    b->init_dims[i][1] = d1;
    t->n_dims = (size_t)ndim;
    t->dims = b->init_dims[i];
    t->has_data_type = 1;
    t->data_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    size_t count = 1;
    for (int k = 0; k < ndim; k++) count *= (size_t)b->init_dims[i][k];
    t->n_float_data = count;
    t->float_data = (float *)data; /* packed as is; never written through */
    b->init_ptrs[i] = t;
    return t->name;
}

/* Adds node `op` named `name` on inputs in[0..n_in) with an int attribute (attr NULL:
 * none). Its output value takes the node's name. Returns that name. */
static char *add_node(OnnxBuild *b, const char *op, const char *name, char *const *in,
                      int n_in, const char *attr, int64_t attr_value)
{
    NN_ASSERT(b->n_nodes < MAX_NODES && n_in <= 3);
    int i = b->n_nodes++;
    Onnx__NodeProto *n = &b->nodes[i];
    *n = (Onnx__NodeProto)ONNX__NODE_PROTO__INIT;
    snprintf(b->node_names[i], NAME_LEN, "%s", name);
    snprintf(b->node_values[i], NAME_LEN, "%s", name);
    n->name = b->node_names[i];
    n->op_type = (char *)op;
    for (int k = 0; k < n_in; k++) b->node_inputs[i][k] = in[k];
    n->n_input = (size_t)n_in;
    n->input = b->node_inputs[i];
    b->node_outputs[i][0] = b->node_values[i];
    n->n_output = 1;
    n->output = b->node_outputs[i];
    if (attr) {
        Onnx__AttributeProto *a = &b->attrs[i];
        *a = (Onnx__AttributeProto)ONNX__ATTRIBUTE_PROTO__INIT;
        a->name = (char *)attr;
        a->has_type = 1;
        a->type = ONNX__ATTRIBUTE_PROTO__ATTRIBUTE_TYPE__INT;
        a->has_i = 1;
        a->i = attr_value;
        b->attr_ptrs[i] = a;
        n->n_attribute = 1;
        n->attribute = &b->attr_ptrs[i];
    }
    b->node_ptrs[i] = n;
    return b->node_values[i];
}

static void add_meta(OnnxBuild *b, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add_meta(OnnxBuild *b, const char *key, const char *fmt, ...)
{
    NN_ASSERT(b->n_meta < MAX_META);
    int i = b->n_meta++;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b->meta_values[i], sizeof b->meta_values[i], fmt, ap);
    va_end(ap);
    b->meta[i] = (Onnx__StringStringEntryProto)ONNX__STRING_STRING_ENTRY_PROTO__INIT;
    b->meta[i].key = (char *)key;
    b->meta[i].value = b->meta_values[i];
    b->meta_ptrs[i] = &b->meta[i];
}

/* A graph input or output `name`: float32 (N, width), N symbolic. */
static void set_io(Io *io, const char *name, int64_t width)
{
    io->dims[0] = (Onnx__TensorShapeProto__Dimension)ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
    io->dims[0].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_PARAM;
    io->dims[0].dim_param = "N";
    io->dims[1] = (Onnx__TensorShapeProto__Dimension)ONNX__TENSOR_SHAPE_PROTO__DIMENSION__INIT;
    io->dims[1].value_case = ONNX__TENSOR_SHAPE_PROTO__DIMENSION__VALUE_DIM_VALUE;
    io->dims[1].dim_value = width;
    io->dim_ptrs[0] = &io->dims[0];
    io->dim_ptrs[1] = &io->dims[1];
    io->shape = (Onnx__TensorShapeProto)ONNX__TENSOR_SHAPE_PROTO__INIT;
    io->shape.n_dim = 2;
    io->shape.dim = io->dim_ptrs;
    io->tensor = (Onnx__TypeProto__Tensor)ONNX__TYPE_PROTO__TENSOR__INIT;
    io->tensor.has_elem_type = 1;
    io->tensor.elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
    io->tensor.shape = &io->shape;
    io->type = (Onnx__TypeProto)ONNX__TYPE_PROTO__INIT;
    io->type.value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
    io->type.tensor_type = &io->tensor;
    io->info = (Onnx__ValueInfoProto)ONNX__VALUE_INFO_PROTO__INIT;
    io->info.name = (char *)name;
    io->info.type = &io->type;
}

/* An ONNX operator and the name its node takes after "layer_L/"; for the output layer also
 * what its outputs are (for doc_string) and whether they are classes. */
typedef struct {
    const char *op, *node;
    const char *outputs;
    int classes;
} OnnxOp;

static OnnxOp activation_op(NnActivation a)
{
    switch (a) {
    case NN_ACT_RELU: return (OnnxOp){"Relu", "relu", NULL, 0};
    case NN_ACT_SIGMOID: return (OnnxOp){"Sigmoid", "sigmoid", NULL, 0};
    case NN_ACT_TANH: return (OnnxOp){"Tanh", "tanh", NULL, 0};
    }
    NN_ASSERT(!"unknown activation");
    return (OnnxOp){NULL, NULL, NULL, 0};
}

/* The output layer's operator after its Gemm; op NULL: none (linear outputs). */
static OnnxOp output_op(NnLoss loss)
{
    switch (loss) {
    case NN_LOSS_CROSS_ENTROPY:
        return (OnnxOp){"Softmax", "softmax", "class probabilities (softmax)", 1};
    case NN_LOSS_MSE: return (OnnxOp){"Sigmoid", "sigmoid", "per-class sigmoid scores", 1};
    case NN_LOSS_SQUARED_ERROR: return (OnnxOp){NULL, NULL, "linear (regression) outputs", 0};
    }
    NN_ASSERT(!"unknown loss");
    return (OnnxOp){NULL, NULL, NULL, 0};
}

/* Fills b with ck's model: b's messages point into b and into ck, which must both outlive
 * the packing. */
static void build(OnnxBuild *b, const NnCheckpoint *ck)
{
    const NnModel *m = &ck->model;
    const NnPreprocess *p = &ck->prep;
    char name[NAME_LEN], arch[256];
    int at = snprintf(arch, sizeof arch, "%d", m->inputs);
    for (int l = 0; l < m->n_layers && at < (int)sizeof arch; l++)
        at += snprintf(arch + at, sizeof arch - (size_t)at, "-%d", m->layers[l].out);

    /* Preprocessing: separate nodes, each rounded to float32 (nn_preprocess.h). */
    b->scale = p->scale;
    char *x = "input";
    char *mul[2] = {x, add_init(b, "preprocess/scale", &b->scale, 0, 0, 0)};
    x = add_node(b, "Mul", "preprocess/scaled", mul, 2, NULL, 0);
    if (p->mean) {
        char *sub[2] = {x, add_init(b, "preprocess/mean", p->mean, 1, p->features, 0)};
        x = add_node(b, "Sub", "preprocess/centered", sub, 2, NULL, 0);
    }
    if (p->std) {
        char *div[2] = {x, add_init(b, "preprocess/std", p->std, 1, p->features, 0)};
        x = add_node(b, "Div", "preprocess/standardized", div, 2, NULL, 0);
    }

    /* Layers: x:(N, in) W:(out, in) b:(out) -> x W^T + b:(N, out), then the activation. */
    for (int l = 0; l < m->n_layers; l++) {
        const NnLayer *ly = &m->layers[l];
        char w_name[NAME_LEN], b_name[NAME_LEN];
        snprintf(w_name, sizeof w_name, "layer_%d/weights", l);
        snprintf(b_name, sizeof b_name, "layer_%d/biases", l);
        char *gemm[3] = {x, add_init(b, w_name, ly->weights, 2, ly->out, ly->in),
                         add_init(b, b_name, ly->biases, 1, ly->out, 0)};
        snprintf(name, sizeof name, "layer_%d/gemm", l);
        x = add_node(b, "Gemm", name, gemm, 3, "transB", 1);
        int last = l == m->n_layers - 1;
        OnnxOp op = last ? output_op(m->loss) : activation_op(m->activation);
        if (op.op) {
            snprintf(name, sizeof name, "layer_%d/%s", l, op.node);
            /* Softmax over each row's classes. */
            x = add_node(b, op.op, name, &x, 1, strcmp(op.op, "Softmax") == 0 ? "axis" : NULL, 1);
        }
    }
    /* The last node's value is the graph's output. */
    snprintf(b->node_values[b->n_nodes - 1], NAME_LEN, "output");

    set_io(&b->input, "input", m->inputs);
    set_io(&b->output, "output", m->outputs);
    b->graph = (Onnx__GraphProto)ONNX__GRAPH_PROTO__INIT;
    b->graph.name = "nn-mpi";
    b->graph.n_node = (size_t)b->n_nodes;
    b->graph.node = b->node_ptrs;
    b->graph.n_initializer = (size_t)b->n_inits;
    b->graph.initializer = b->init_ptrs;
    b->input_ptrs[0] = &b->input.info;
    b->output_ptrs[0] = &b->output.info;
    b->graph.n_input = 1;
    b->graph.input = b->input_ptrs;
    b->graph.n_output = 1;
    b->graph.output = b->output_ptrs;

    char hex[17];
    nn_hash_hex(ck->checksum, hex);
    const OnnxOp out = output_op(m->loss);
    snprintf(b->model_doc, sizeof b->model_doc,
             "nn-mpi model %s %s/%s. input: (N, %d) raw stored feature values (%s) as float32; "
             "the graph applies the model's preprocessing. output: (N, %d) %s.",
             arch, nn_activation_name(m->activation), nn_loss_name(m->loss), m->inputs,
             nn_feature_type_name(p->type), m->outputs, out.outputs);
    add_meta(b, "run_id", "%s", ck->state.run_id);
    add_meta(b, "checkpoint_checksum", "%s", hex);
    add_meta(b, "global_step", "%" PRId64, ck->state.global_step);
    add_meta(b, "epochs_done", "%" PRId64, ck->state.epochs_done);
    add_meta(b, "layer_sizes", "%s", arch);
    add_meta(b, "activation", "%s", nn_activation_name(m->activation));
    add_meta(b, "loss", "%s", nn_loss_name(m->loss));
    add_meta(b, "feature_type", "%s", nn_feature_type_name(p->type));
    add_meta(b, out.classes ? "classes" : "targets", "%d", m->outputs);

    b->opset = (Onnx__OperatorSetIdProto)ONNX__OPERATOR_SET_ID_PROTO__INIT;
    b->opset.domain = "";
    b->opset.has_version = 1;
    b->opset.version = NN_ONNX_OPSET;
    b->opset_ptrs[0] = &b->opset;
    b->model = (Onnx__ModelProto)ONNX__MODEL_PROTO__INIT;
    b->model.has_ir_version = 1;
    b->model.ir_version = NN_ONNX_IR_VERSION;
    b->model.n_opset_import = 1;
    b->model.opset_import = b->opset_ptrs;
    b->model.producer_name = "nn-mpi";
    b->model.producer_version = NN_VERSION;
    b->model.doc_string = b->model_doc;
    b->model.graph = &b->graph;
    b->model.n_metadata_props = (size_t)b->n_meta;
    b->model.metadata_props = b->meta_ptrs;
}

NnStatus nn_export_onnx(const NnCheckpoint *ck, const char *path, char err[NN_ERR_LEN])
{
    NnStatus status = NN_ERR;
    uint8_t *bytes = NULL;
    OnnxBuild *b = calloc(1, sizeof *b);
    if (!b) {
        nn_fail(err, "%s: out of memory building the ONNX model", path);
        goto done;
    }
    build(b, ck);
    size_t size = onnx__model_proto__get_packed_size(&b->model);
    /* protobuf messages are limited to 2 GiB (readers refuse larger ones). */
    if (size > (size_t)INT32_MAX) {
        nn_fail(err, "%s: the model takes %zu bytes as ONNX, more than protobuf's 2 GiB limit",
                path, size);
        goto done;
    }
    bytes = malloc(size ? size : 1);
    if (!bytes) {
        nn_fail(err, "%s: out of memory for the %zu bytes of the ONNX model", path, size);
        goto done;
    }
    size_t packed = onnx__model_proto__pack(&b->model, bytes);
    NN_ASSERT(packed == size);
    status = nn_atomic_write(path, bytes, size, 0, err);
done:
    free(bytes);
    free(b);
    return status;
}
