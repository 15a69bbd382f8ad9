#include "models/resnet_backbone.h"

#include <array>
#include <utility>

#include "layers/gradient_sum.h"

namespace pans {
namespace {

constexpr std::array<int, 4> kDilations = {1, 1, 2, 4};  // output stride 8
constexpr int kDeepSupervisionLayer = 2;                 // layer3

// PAnS's ResNet._stride_dilation: stride 2 in the first block of an undilated layer after the first.
int block_stride(int layer, int block) {
  return kDilations[std::size_t(layer)] == 1 && block == 0 && layer > 0 ? 2 : 1;
}

}  // namespace

ResNetBackbone::ResNetBackbone(const std::string& name, const PspNetConfig& config, const LayerOptions& options)
    : stem_conv_(child_name(name, "mod1.conv1"),
                 {3, config.stem_channels, 7, {/*stride=*/2, /*padding=*/3, /*dilation=*/1}, false}, options),
      stem_bn_(make_norm_activation(child_name(name, "mod1.bn1"), config.stem_channels, IabnActivation::LeakyRelu,
                                    options)) {
  std::int64_t in_channels = config.stem_channels;
  for (int layer = 0; layer < 4; ++layer) {
    PANS_CHECK(config.blocks[std::size_t(layer)] >= 1, "ResNetBackbone: layer", layer + 1, " needs at least one block");
    std::vector<Bottleneck>& blocks = layers_.emplace_back();
    blocks.reserve(std::size_t(config.blocks[std::size_t(layer)]));
    for (int block = 0; block < config.blocks[std::size_t(layer)]; ++block) {
      const std::string block_name =
          child_name(name, "mod" + std::to_string(layer + 2) + ".block" + std::to_string(block + 1));
      blocks.emplace_back(block_name,
                          BottleneckConfig{in_channels, config.widths[std::size_t(layer)], block_stride(layer, block),
                                           kDilations[std::size_t(layer)]},
                          options);
      in_channels = config.layer_out_channels(layer);
    }
  }
}

BackboneFeatures ResNetBackbone::forward(const Tensor& images, Mode mode) {
  Tensor x = pool_.forward(stem_bn_->forward(stem_conv_.forward(images), mode));
  BackboneFeatures features;
  for (std::size_t layer = 0; layer < layers_.size(); ++layer) {
    for (Bottleneck& block : layers_[layer]) x = block.forward(x, mode);
    if (layer == kDeepSupervisionLayer) features.layer3 = x;
  }
  features.layer4 = x;
  return features;
}

Tensor ResNetBackbone::backward(Tensor dlayer4, const Tensor& dlayer3, const GradientReadyHook& ready,
                                InputGradient images) {
  Tensor d = std::move(dlayer4);
  for (std::size_t layer = layers_.size(); layer-- > 0;) {
    if (layer == kDeepSupervisionLayer && dlayer3.defined()) add_into(d, dlayer3);
    for (std::size_t block = layers_[layer].size(); block-- > 0;) d = layers_[layer][block].backward(d, ready);
  }
  d = pool_.backward(d);
  stem_bn_->backward(d, d);
  report_gradients_ready(ready, *stem_bn_);
  Tensor dimages = stem_conv_.backward(d, images);
  report_gradients_ready(ready, stem_conv_);
  return dimages;
}

SpatialSizes ResNetBackbone::spatial_sizes(std::int64_t input_size) const {
  SpatialSizes sizes{};
  sizes.stem = stem_conv_.output_size(input_size);
  sizes.pool = pool_.output_size(sizes.stem);
  std::int64_t size = sizes.pool;
  std::array<std::int64_t*, 4> layer_sizes = {&sizes.layer1, &sizes.layer2, &sizes.layer3, &sizes.layer4};
  for (std::size_t layer = 0; layer < layers_.size(); ++layer) {
    for (const Bottleneck& block : layers_[layer]) size = block.output_size(size);
    *layer_sizes[layer] = size;
  }
  return sizes;
}

void ResNetBackbone::append_parameters(std::vector<Parameter>& out) const {
  stem_conv_.append_parameters(out);
  stem_bn_->append_parameters(out);
  for (const std::vector<Bottleneck>& blocks : layers_)
    for (const Bottleneck& block : blocks) block.append_parameters(out);
}

void ResNetBackbone::append_buffers(std::vector<Buffer>& out) const {
  stem_bn_->append_buffers(out);
  for (const std::vector<Bottleneck>& blocks : layers_)
    for (const Bottleneck& block : blocks) block.append_buffers(out);
}

}  // namespace pans
