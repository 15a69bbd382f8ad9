#include "models/pspnet_config.h"

namespace pans {

PspNetConfig PspNetConfig::resnet50_d8(ClassifierKind classifier) {
  PspNetConfig config;
  config.classifier = classifier;
  return config;
}

PspNetConfig PspNetConfig::small(ClassifierKind classifier) {
  PspNetConfig config;
  config.stem_channels = 8;
  config.widths = {8, 16, 32, 64};
  config.blocks = {1, 1, 1, 1};
  config.head_channels = 64;
  config.classifier = classifier;
  return config;
}

std::int64_t PspNetConfig::parameter_count() const {
  // A k x k convolution without bias from `in` to `out` channels, followed by an iABN (w, b).
  const auto conv_abn = [](std::int64_t k, std::int64_t in, std::int64_t out) { return k * k * in * out + 2 * out; };
  std::int64_t total = conv_abn(7, 3, stem_channels);
  std::int64_t channels = stem_channels;
  for (int layer = 0; layer < 4; ++layer)
    for (int block = 0; block < blocks[std::size_t(layer)]; ++block) {
      const std::int64_t width = widths[std::size_t(layer)], out = layer_out_channels(layer);
      total += conv_abn(1, channels, width) + conv_abn(3, width, width) + conv_abn(1, width, out);
      if (channels != out || (layer == 1 && block == 0)) total += conv_abn(1, channels, out);  // the projection
      channels = out;
    }
  const std::int64_t bins = std::int64_t(pyramid_bins.size());
  total += bins * conv_abn(1, channels, head_channels) + conv_abn(3, channels + bins * head_channels, head_channels);
  const std::int64_t classifier_values =
      classes * head_channels + (classifier == ClassifierKind::Linear ? classes : 0);
  total += classifier_values;
  if (deep_supervision) total += conv_abn(3, layer_out_channels(2), head_channels) + classifier_values;
  return total;
}

}  // namespace pans
