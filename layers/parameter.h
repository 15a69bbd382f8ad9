// What every layer shares: named parameters and buffers (for the optimizer and checkpoints), the
// train/eval mode, where new tensors live, and the deterministic initialisation.
//
// Names follow the PyTorch module paths of the official PAnS model (SegmentationModule: body,
// head, cls), e.g. "body.mod2.block1.convs.conv1.weight", "head.ppm.0.2.running_var",
// "cls.cls.weight", so a checkpoint lists the same keys as a PAnS state_dict (shapes differ: pans
// stores convolution weights {out, kh, kw, in} and classifier weights {classes, channels}).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/implementations.h"
#include "tensor/tensor.h"

namespace pans {

class BatchStatisticsReducer;

// A trainable tensor and its gradient, of one shape, dtype and device. Backward passes accumulate
// (+=) into grad; the training loop zeroes it before each step. Both are views of the layer's own
// memory, so an optimizer holding them updates the layer.
struct Parameter {
  std::string name;
  Tensor value;
  Tensor grad;
};

// State that is checkpointed but not trained: the running statistics of InPlace-ABN.
struct Buffer {
  std::string name;
  Tensor value;
};

// Train: batch statistics (and their running averages are updated), dropout active.
// Eval: running statistics, dropout off.
// Sample: running statistics, dropout active: one draw of the network for MC-Dropout's
// stochastic passes (eval/multiscale.h). Layers test for Train (batch statistics) or for Eval
// (dropout off), so Sample needs no case of its own.
enum class Mode { Train, Eval, Sample };

// Where a model's tensors live and how its weights are drawn. Every layer draws its weights from
// Philox stream name_stream(its parameter name) of `seed`, so the initial weights depend on the
// seed and the names only, not on the construction order or the device.
struct LayerOptions {
  DType dtype = DType::F32;
  Device device = Device::cpu();
  std::uint64_t seed = 42;
  // Synchronized InPlace-ABN under data parallelism (layers/inplace_abn.h): every InPlaceAbn built
  // with these options takes its training statistics over all ranks through it. Null: local
  // statistics. Not owned; it must outlive the layers.
  BatchStatisticsReducer* batch_statistics_reducer = nullptr;
  // Which normalisation layer make_norm_activation builds for CUDA layers (layers/norm_activation.h):
  // pans' InPlace-ABN or cuDNN's batch norm plus a separate activation. The app's choice
  // (config/implementations.h); cpu layers have the CPU reference only.
  NormImplementation normalization = NormImplementation::Native;
};

// "prefix.name", or "name" when the prefix is empty.
std::string child_name(const std::string& prefix, const std::string& name);

// A 64-bit FNV-1a hash of the text: the Philox stream of a layer's random draws.
std::uint64_t name_stream(const std::string& name);

// A tensor of the options' dtype and device holding `value` everywhere.
Tensor constant_tensor(const Shape& shape, double value, const LayerOptions& options);

// A parameter named `name`, its value drawn from N(0, stddev^2) (Philox stream name_stream(name)),
// its gradient zero.
Parameter normal_parameter(const std::string& name, const Shape& shape, double stddev, const LayerOptions& options);
// The same with U[-bound, bound).
Parameter uniform_parameter(const std::string& name, const Shape& shape, double bound, const LayerOptions& options);
// The same with a constant value.
Parameter constant_parameter(const std::string& name, const Shape& shape, double value, const LayerOptions& options);

std::int64_t total_elements(const std::vector<Parameter>& parameters);

}  // namespace pans
