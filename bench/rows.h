// The benchmark's rows: one (batch config, op, pass, dtype, layer shape) each, with its napkin cost
// (FLOPs and minimal bytes), what pans runs for it and which library baseline it is timed against.
// Host-only: --dry-run prints these without a GPU.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "bench/layer_shapes.h"
#include "tensor/dtype.h"

namespace pans::bench {

enum class Op { Conv, Iabn, Residual, MaxPool, AdaptivePool, Resize, Concat, Dropout, CosineHead, CrossEntropy, Sgd };

const char* op_name(Op op);  // the --ops spelling: conv, iabn, residual, maxpool, adaptive_pool, ...
const std::vector<Op>& all_ops();
// A comma-separated list of op names, or "all"; throws pans::Error naming an unknown one.
std::vector<Op> parse_ops(const std::string& text);
// "f32", "bf16", "f32,bf16" or "all".
std::vector<DType> parse_dtypes(const std::string& text);
const char* dtype_short_name(DType dtype);  // "f32", "bf16"

// fwd, bwd, dgrad (conv input gradient), wgrad (conv weight gradient), fused (cross-entropy: loss
// and gradient in one call), step (SGD).
enum class Pass { Forward, Backward, BackwardInput, BackwardWeight, Fused, Step };
const char* pass_name(Pass pass);

struct Row {
  std::string id;  // "<config>/<op>/<pass>/<dtype>/<layer>", unique
  BatchConfig config;
  Op op = Op::Conv;
  Pass pass = Pass::Forward;
  DType dtype = DType::F32;
  LayerGroup group;  // the layer(s) this shape stands for; count() of them per training step

  // The shape; which fields matter depends on op.
  Conv2dGeometry conv{};                              // Conv
  ActivationShape shape;                              // every other op's input activation (Concat: its output)
  std::int64_t out_height = 0, out_width = 0;         // MaxPool, AdaptivePool, Resize
  std::vector<std::int64_t> concat_inputs;            // Concat: channels of each input
  bool leaky = true;                                  // Iabn
  std::int64_t classes = 0;                           // CosineHead
  std::vector<std::vector<std::int64_t>> parameters;  // Sgd: every parameter tensor's shape

  std::string shape_text;  // "2x57x57x4096 -> 512, 3x3/1 pad 1 dil 1"
  double flops = 0;        // of one call
  double bytes = 0;        // minimal DRAM bytes of one call (bytes_model says how they are counted)
  std::string bytes_model;
  bool compute_bound = false;  // rated against the GEMM peak (else against the copy bandwidth)
  std::string native;          // what pans runs (conv: the algorithm its dispatch picks)
  std::string library;         // the baseline timed against it, "" if none
};

std::vector<Row> make_rows(const std::vector<NetworkShapes>& networks, const std::vector<Op>& ops,
                           const std::vector<DType>& dtypes);

// The algorithm kernels/conv2d.cpp picks for a CUDA convolution of this geometry and storage type,
// with the reason when it is not the tensor-core kernel, e.g. "simt (Cin is not a multiple of 4 ...)".
// Asks the native dispatch's own predicate (cuda::conv2d_tensor_core_misfit) where this build has
// the CUDA conv2d kernels; elsewhere applies the documented rule (channel counts in whole 16-byte
// chunks) and says it predicted.
std::string native_conv_algo(const Conv2dGeometry& g, DType dtype);

}  // namespace pans::bench
