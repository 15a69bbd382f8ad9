// The shape of a PAnS network: ResNet-50 v1.5 dilated to output stride 8 with the PSPNet head
// (docs/method.md#3-model), or a smaller network of the same structure. Only widths and depths vary;
// the topology (7x7/2 stem, max pool, bottlenecks with the stride on the 3x3, dilations 1, 1, 2, 4
// on every block of layer1..layer4, pyramid pooling, deep supervision on layer3) is fixed.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "layers/classifier.h"

namespace pans {

constexpr std::int64_t kBottleneckExpansion = 4;  // a bottleneck's output has 4x its inner width

struct PspNetConfig {
  std::int64_t stem_channels = 64;
  std::array<std::int64_t, 4> widths = {64, 128, 256, 512};  // inner width of layer1..layer4 (mod2..mod5)
  std::array<int, 4> blocks = {3, 4, 6, 3};
  std::int64_t head_channels = 512;  // every pyramid branch, the 3x3 after the concat, the deep-sup 3x3
  std::vector<int> pyramid_bins = {1, 2, 3, 6};
  std::int64_t classes = 13;
  ClassifierKind classifier = ClassifierKind::Cosine;
  bool deep_supervision = true;
  double dropout = 0.1;  // Dropout2d after the head's and the deep-sup branch's iABN

  // The PAnS network: ResNet-50-D8 + PSPNet, 13 classes.
  static PspNetConfig resnet50_d8(ClassifierKind classifier = ClassifierKind::Cosine);
  // The same structure with 1/8 of the widths and one block per layer, for 2 CPU cores.
  static PspNetConfig small(ClassifierKind classifier = ClassifierKind::Cosine);

  std::int64_t layer_out_channels(int layer) const { return widths[std::size_t(layer)] * kBottleneckExpansion; }
  // The trainable values of the network this config describes, computed from the config alone:
  // what a reader of an untrusted recipe checks before it lets the config allocate a network.
  std::int64_t parameter_count() const;
};

}  // namespace pans
