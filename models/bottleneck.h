// Bottleneck: the post-activation ResNet v1.5 block of PAnS (Mapillary's ResidualBlock):
//   conv1 1x1 -> bn1 (leaky) -> conv2 3x3 (stride, dilation, padding = dilation) -> bn2 (leaky)
//   -> conv3 1x1 -> bn3 (identity)
//   shortcut: x, or proj_conv 1x1 (stride) -> proj_bn (identity) when the stride is not 1 or the
//   channels change
//   out = leaky_relu(branch + shortcut, 0.01)
// Names: "<name>.convs.{conv1,bn1,conv2,bn2,conv3,bn3}.*", "<name>.proj_conv.weight",
// "<name>.proj_bn.*".
//
// Buffers held between forward and backward, all shared, none copied: x (by conv1 and proj_conv),
// the bn1 and bn2 outputs (written over the conv1 and conv2 outputs; saved by bn1/bn2 and, as
// their inputs, by conv2/conv3), the bn3 and proj_bn outputs (over the conv3 and proj_conv
// outputs), and the block output (a new tensor, saved by the residual add and by the next block).
//
// forward:  out (=), a new tensor.
// backward: dx (=), a new tensor; parameter gradients (+=), each layer's reported to `ready` right
//           after that layer's backward (models/gradient_ready.h). dout is consumed: its memory is
//           reused for the gradient at the residual add and the shortcut path.
#pragma once

#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "layers/conv2d.h"
#include "layers/norm_activation.h"
#include "layers/residual_add_leaky.h"
#include "models/gradient_ready.h"

namespace pans {

struct BottleneckConfig {
  std::int64_t in_channels = 0;
  std::int64_t width = 0;  // inner width; the output has kBottleneckExpansion * width channels
  int stride = 1;
  int dilation = 1;
};

class Bottleneck {
 public:
  Bottleneck(const std::string& name, const BottleneckConfig& config, const LayerOptions& options);

  Tensor forward(const Tensor& x, Mode mode);
  Tensor backward(Tensor dout, const GradientReadyHook& ready = {});

  bool has_projection() const { return proj_conv_.has_value(); }
  std::int64_t output_size(std::int64_t input_size) const { return conv2_.output_size(input_size); }
  void append_parameters(std::vector<Parameter>& out) const;
  void append_buffers(std::vector<Buffer>& out) const;

 private:
  Conv2d conv1_, conv2_, conv3_;
  std::unique_ptr<NormActivation> bn1_, bn2_, bn3_;
  std::optional<Conv2d> proj_conv_;
  std::unique_ptr<NormActivation> proj_bn_;  // with proj_conv_
  ResidualAddLeaky add_;
};

}  // namespace pans
