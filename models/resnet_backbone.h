// ResNetBackbone: ResNet v1.5 dilated to output stride 8 (docs/method.md#backbone-resnet-50-d8), as
// the official PAnS models/resnet.py builds it (docs/method.md#sources):
//   stem: conv1 7x7/2 pad 3 -> bn1 (leaky) -> max pool 3x3/2 pad 1       "body.mod1.{conv1,bn1}"
//   layer1..layer4 = mod2..mod5: blocks of Bottleneck, inner widths config.widths,
//     dilation 1, 1, 2, 4 on every block of the layer (the first included), padding = dilation;
//     stride 2 only in layer2's first block (on its 3x3), 1 everywhere else.   "body.modK.blockJ"
//   (K = layer + 1, J from 1 as in PAnS).
// Output stride 8: layer2..layer4 are at 1/8 of the input.
//
// forward:  returns the layer3 (mod4, for deep supervision) and layer4 (mod5) outputs; they stay
//           alive in the blocks that saved them.
// backward: takes the gradients at layer4 and (if defined) layer3; parameter gradients (+=), each
//           layer's reported to `ready` right after that layer's backward (models/gradient_ready.h).
//           The image gradient is not computed. Consumes dlayer4.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "layers/conv2d.h"
#include "layers/max_pool.h"
#include "layers/norm_activation.h"
#include "models/bottleneck.h"
#include "models/gradient_ready.h"
#include "models/pspnet_config.h"

namespace pans {

// Heights (or widths) of the feature maps for one input size.
struct SpatialSizes {
  std::int64_t stem, pool, layer1, layer2, layer3, layer4;
};

struct BackboneFeatures {
  Tensor layer3;
  Tensor layer4;
};

class ResNetBackbone {
 public:
  ResNetBackbone(const std::string& name, const PspNetConfig& config, const LayerOptions& options);

  BackboneFeatures forward(const Tensor& images, Mode mode);
  // Returns the gradient with respect to the images with InputGradient::Compute (ODIN's input
  // perturbation); training skips it, the stem convolution's input being the data.
  Tensor backward(Tensor dlayer4, const Tensor& dlayer3, const GradientReadyHook& ready = {},
                  InputGradient images = InputGradient::Skip);

  SpatialSizes spatial_sizes(std::int64_t input_size) const;
  void append_parameters(std::vector<Parameter>& out) const;
  void append_buffers(std::vector<Buffer>& out) const;

 private:
  Conv2d stem_conv_;
  std::unique_ptr<NormActivation> stem_bn_;
  MaxPool2d pool_;
  std::vector<std::vector<Bottleneck>> layers_;  // layers_[0..3] = layer1..layer4
};

}  // namespace pans
