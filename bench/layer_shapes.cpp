#include "bench/layer_shapes.h"

#include <sstream>
#include <tuple>

#include "tensor/error.h"

namespace pans::bench {

std::vector<BatchConfig> parse_batch_configs(const std::string& text) {
  const BatchConfig pans_default{"2x450", 2, 450, 450};
  const BatchConfig cityscapes{"8x512x1024", 8, 512, 1024};
  std::vector<BatchConfig> configs;
  std::stringstream list(text);
  std::string item;
  while (std::getline(list, item, ',')) {
    if (item == "all") {
      configs.push_back(pans_default);
      configs.push_back(cityscapes);
    } else if (item == pans_default.name) {
      configs.push_back(pans_default);
    } else if (item == cityscapes.name) {
      configs.push_back(cityscapes);
    } else {
      PANS_FAIL("--batch-config ", item, ": expected 2x450, 8x512x1024 or all");
    }
  }
  PANS_CHECK(!configs.empty(), "--batch-config is empty: expected 2x450, 8x512x1024 or all");
  return configs;
}

std::int64_t ParameterTensor::elements() const {
  std::int64_t product = 1;
  for (std::int64_t extent : shape) product *= extent;
  return product;
}

std::int64_t NetworkShapes::parameter_count() const {
  std::int64_t total = 0;
  for (const ParameterTensor& p : parameters) total += p.elements();
  return total;
}

double NetworkShapes::conv_macs() const {
  double total = 0;
  for (const ConvLayer& c : convs) {
    const Conv2dGeometry& g = c.g;
    total += double(c.count()) * double(g.batch * g.out_height * g.out_width) * double(g.out_channels) *
             double(g.in_channels * g.kernel_height * g.kernel_width);
  }
  return total;
}

double NetworkShapes::classifier_macs() const {
  double total = 0;
  for (const ClassifierLayer& c : classifiers)
    total += double(c.count()) * double(c.features.elements()) * double(c.classes);
  return total;
}

namespace {

std::int64_t output_size(std::int64_t in, std::int64_t kernel, int stride, int padding, int dilation) {
  return (in + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;
}

// Walks the network in forward order, merging layers of equal shape into one group.
class Builder {
 public:
  explicit Builder(NetworkShapes& net) : net_(net) {}

  // A bias-free convolution on `in`, returning its output shape; records its weight.
  ActivationShape conv(const std::string& name, const ActivationShape& in, std::int64_t out_channels, int kernel,
                       int stride = 1, int dilation = 1, bool needs_input_grad = true) {
    const int padding = dilation * (kernel - 1) / 2;
    Conv2dGeometry g{in.n,
                     in.h,
                     in.w,
                     in.c,
                     out_channels,
                     kernel,
                     kernel,
                     output_size(in.h, kernel, stride, padding, dilation),
                     output_size(in.w, kernel, stride, padding, dilation),
                     stride,
                     padding,
                     dilation};
    add_to_group(
        net_.convs, name, [&](const ConvLayer& c) { return same(c.g, g); },
        [&] {
          ConvLayer layer;
          layer.g = g;
          layer.needs_input_grad = needs_input_grad;
          return layer;
        });
    net_.parameters.push_back({name + ".weight", {out_channels, kernel, kernel, in.c}});
    return {g.batch, g.out_height, g.out_width, g.out_channels};
  }

  void iabn(const std::string& name, const ActivationShape& shape, bool leaky) {
    add_to_group(
        net_.iabns, name, [&](const IabnLayer& l) { return same(l.shape, shape) && l.leaky == leaky; },
        [&] {
          IabnLayer layer;
          layer.shape = shape;
          layer.leaky = leaky;
          return layer;
        });
    net_.parameters.push_back({name + ".weight", {shape.c}});
    net_.parameters.push_back({name + ".bias", {shape.c}});
  }

  // conv -> iABN, the unit of every layer; the iABN is named after its conv.
  ActivationShape conv_iabn(const std::string& name, const ActivationShape& in, std::int64_t out_channels, int kernel,
                            bool leaky, int stride = 1, int dilation = 1) {
    const ActivationShape out = conv(name, in, out_channels, kernel, stride, dilation);
    iabn(name + ".iabn", out, leaky);
    return out;
  }

  void activation(std::vector<ActivationLayer>& groups, const std::string& name, const ActivationShape& shape) {
    add_to_group(
        groups, name, [&](const ActivationLayer& l) { return same(l.shape, shape); },
        [&] {
          ActivationLayer layer;
          layer.shape = shape;
          return layer;
        });
  }

  void resample(std::vector<ResampleLayer>& groups, const std::string& name, const ActivationShape& in,
                std::int64_t out_height, std::int64_t out_width) {
    add_to_group(
        groups, name,
        [&](const ResampleLayer& l) {
          return same(l.input, in) && l.out_height == out_height && l.out_width == out_width;
        },
        [&] {
          ResampleLayer layer;
          layer.input = in;
          layer.out_height = out_height;
          layer.out_width = out_width;
          return layer;
        });
  }

  void classifier(const std::string& name, const ActivationShape& features, std::int64_t classes) {
    add_to_group(
        net_.classifiers, name,
        [&](const ClassifierLayer& l) { return same(l.features, features) && l.classes == classes; },
        [&] {
          ClassifierLayer layer;
          layer.features = features;
          layer.classes = classes;
          return layer;
        });
    net_.parameters.push_back({name + ".weight", {classes, features.c}});
  }

 private:
  NetworkShapes& net_;

  static bool same(const ActivationShape& a, const ActivationShape& b) {
    return std::tie(a.n, a.h, a.w, a.c) == std::tie(b.n, b.h, b.w, b.c);
  }
  static bool same(const Conv2dGeometry& a, const Conv2dGeometry& b) {
    return std::tie(a.batch, a.in_height, a.in_width, a.in_channels, a.out_channels, a.kernel_height, a.kernel_width,
                    a.out_height, a.out_width, a.stride, a.padding, a.dilation) ==
           std::tie(b.batch, b.in_height, b.in_width, b.in_channels, b.out_channels, b.kernel_height, b.kernel_width,
                    b.out_height, b.out_width, b.stride, b.padding, b.dilation);
  }

  template <class Group, class Matches, class Make>
  static void add_to_group(std::vector<Group>& groups, const std::string& name, Matches matches, Make make) {
    for (Group& group : groups)
      if (matches(group)) {
        group.layers.push_back(name);
        return;
      }
    Group group = make();
    group.name = name;
    group.layers.push_back(name);
    groups.push_back(group);
  }
};

}  // namespace

NetworkShapes network_shapes(const BatchConfig& config, int deepsup_channels) {
  NetworkShapes net;
  net.config = config;
  net.deepsup_channels = deepsup_channels;
  Builder b(net);

  // Stem: 7x7/2 conv 3 -> 64 (its input is the image: no input gradient), iABN, max pool 3x3/2.
  const ActivationShape image{config.batch, config.height, config.width, 3};
  const ActivationShape stem = b.conv("stem.conv", image, 64, 7, 2, 1, /*needs_input_grad=*/false);
  b.iabn("stem.iabn", stem, true);
  b.activation(net.max_pools, "stem.maxpool", stem);
  ActivationShape x{stem.n, output_size(stem.h, 3, 2, 1, 1), output_size(stem.w, 3, 2, 1, 1), stem.c};

  // Bottleneck stages: (blocks, width, stride of the first block, dilation). v1.5: the stride sits
  // on the 3x3; output stride 8: layer3 and layer4 keep stride 1 and dilate every block.
  struct Stage {
    int blocks;
    std::int64_t width;
    int stride, dilation;
  };
  const Stage stages[] = {{3, 64, 1, 1}, {4, 128, 2, 1}, {6, 256, 1, 2}, {3, 512, 1, 4}};
  ActivationShape layer3_out;
  for (int s = 0; s < 4; ++s) {
    const Stage& stage = stages[s];
    for (int block = 0; block < stage.blocks; ++block) {
      const std::string name = "res" + std::to_string(s + 2) + "." + std::to_string(block);
      const int stride = block == 0 ? stage.stride : 1;
      const ActivationShape a = b.conv_iabn(name + ".conv1", x, stage.width, 1, true);
      const ActivationShape c = b.conv_iabn(name + ".conv2", a, stage.width, 3, true, stride, stage.dilation);
      const ActivationShape out = b.conv_iabn(name + ".conv3", c, 4 * stage.width, 1, false);
      if (block == 0) b.conv_iabn(name + ".proj", x, 4 * stage.width, 1, false, stride);
      b.activation(net.residuals, name + ".add", out);
      x = out;
    }
    if (s == 2) layer3_out = x;
  }

  // PSP pyramid on layer4's 2048 channels: per bin, adaptive average pool -> 1x1 conv 2048 -> 512
  // -> iABN -> bilinear upsample; concat with the input -> 3x3 conv 4096 -> 512 -> iABN -> Dropout2d.
  net.concat_inputs.push_back(x.c);
  for (int bins : {1, 2, 3, 6}) {
    const std::string name = "ppm.bin" + std::to_string(bins);
    b.resample(net.adaptive_pools, name + ".pool", x, bins, bins);
    const ActivationShape branch = b.conv_iabn(name + ".conv", {x.n, bins, bins, x.c}, 512, 1, true);
    b.resample(net.resizes, name + ".upsample", branch, x.h, x.w);
    net.concat_inputs.push_back(branch.c);
  }
  const ActivationShape concat{x.n, x.h, x.w, x.c + 4 * 512};
  b.activation(net.concats, "ppm.concat", concat);
  const ActivationShape head = b.conv_iabn("ppm.last.conv", concat, 512, 3, true);
  b.activation(net.dropouts, "ppm.dropout", head);
  b.classifier("classifier", head, net.classes);

  // Deep supervision on layer3: 3x3 conv 1024 -> deepsup_channels -> iABN -> Dropout2d -> classifier.
  const ActivationShape deepsup = b.conv_iabn("deepsup.conv", layer3_out, deepsup_channels, 3, true);
  b.activation(net.dropouts, "deepsup.dropout", deepsup);
  b.classifier("deepsup.classifier", deepsup, net.classes);

  // Both logits are upsampled to the crop and scored by cross-entropy (weights 1 and 0.4).
  const ActivationShape logits{head.n, head.h, head.w, net.classes};
  b.resample(net.resizes, "logits.upsample", logits, config.height, config.width);
  b.resample(net.resizes, "deepsup.logits.upsample", logits, config.height, config.width);
  const ActivationShape crop_logits{config.batch, config.height, config.width, net.classes};
  b.activation(net.cross_entropies, "loss", crop_logits);
  b.activation(net.cross_entropies, "deepsup.loss", crop_logits);
  return net;
}

}  // namespace pans::bench
