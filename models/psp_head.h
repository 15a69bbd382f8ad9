// PspHead: the PSPNet head of PAnS (modules/ppm.py), on the backbone's layer4 and layer3 outputs:
//   main:  pyramid pooling [x, p1, p2, p3, p6]      "head.ppm.<i>.{1,2}"
//          -> 3x3 conv (pad 1, no bias) -> iABN (leaky) -> Dropout2d   "head.conv_last.{0,1}" (.2)
//   deep supervision (training only): layer3 -> 3x3 conv (pad 1, no bias) -> iABN (leaky)
//          -> Dropout2d                         "head.cbr_deepsup.{0,1}", "head.dropout_deepsup"
// Both give config.head_channels features at 1/8 resolution; the classifiers are not part of it.
//
// Buffers: the concat (saved by the 3x3 conv as its input), the iABN outputs (over the conv
// outputs), the dropout outputs (new tensors, or the iABN outputs themselves when dropout is off).
// forward:  features (=). The deep-supervision features only in Train mode with
//           config.deep_supervision.
// backward: the gradients at layer4 and layer3 (the latter undefined without a deep-supervision
//           gradient), new tensors; parameter gradients (+=), each layer's reported to `ready` right
//           after that layer's backward (models/gradient_ready.h), the deep-supervision branch's at
//           once when it gets no gradient. Consumes the feature gradients.
#pragma once

#include <optional>
#include <memory>
#include <string>
#include <vector>

#include "layers/conv2d.h"
#include "layers/dropout2d.h"
#include "layers/norm_activation.h"
#include "layers/pyramid_pooling.h"
#include "models/gradient_ready.h"
#include "models/pspnet_config.h"
#include "models/resnet_backbone.h"

namespace pans {

struct HeadFeatures {
  Tensor main;
  Tensor deep_supervision;
};

class PspHead {
 public:
  PspHead(const std::string& name, const PspNetConfig& config, const LayerOptions& options);

  HeadFeatures forward(const BackboneFeatures& features, Mode mode, std::uint64_t step);
  BackboneFeatures backward(Tensor dmain, Tensor ddeep_supervision, const GradientReadyHook& ready = {});

  void append_parameters(std::vector<Parameter>& out) const;
  void append_buffers(std::vector<Buffer>& out) const;

 private:
  // 3x3 conv (pad 1, no bias) -> iABN (leaky) -> Dropout2d.
  struct ConvAbnDropout {
    ConvAbnDropout(const std::string& conv_name, const std::string& abn_name, const std::string& dropout_name,
                   std::int64_t in_channels, std::int64_t out_channels, double dropout, const LayerOptions& options);
    Tensor forward(const Tensor& x, Mode mode, std::uint64_t step);
    Tensor backward(Tensor dy, const GradientReadyHook& ready);
    void append_parameters(std::vector<Parameter>& out) const;
    Conv2d conv;
    std::unique_ptr<NormActivation> abn;
    Dropout2d dropout;
  };

  PyramidPooling pyramid_;
  ConvAbnDropout last_;
  std::optional<ConvAbnDropout> deep_supervision_;
};

}  // namespace pans
