// The layer shapes of the network pans trains (docs/method.md#3-model): ResNet-50 v1.5, output
// stride 8 (layer3 dilation 2, layer4 dilation 4, every block), InPlace-ABN after every convolution,
// the PSP pyramid head (bins 1, 2, 3, 6), the deep-supervision branch on layer3 and the cosine
// classifiers, at one batch configuration. Distinct shapes are listed once with how many layers of
// one training step share them, so that sum(count x per-shape cost) is the step's cost.
// Host-only: no CUDA, no device.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/shared/conv2d_geometry.h"

namespace pans::bench {

struct BatchConfig {
  std::string name;  // "2x450" or "8x512x1024"
  std::int64_t batch, height, width;
};

// "2x450" (PAnS's default: 2 crops of 450x450), "8x512x1024" (a larger Cityscapes-style
// reference, docs/benchmarks.md#flop-count), or "all" (both); a comma-separated list of these also
// works. Throws pans::Error for anything else.
std::vector<BatchConfig> parse_batch_configs(const std::string& text);

// An NHWC activation {n, h, w, c}.
struct ActivationShape {
  std::int64_t n = 0, h = 0, w = 0, c = 0;
  std::int64_t elements() const { return n * h * w * c; }
};

// A group of layers with one shape: its first layer names it, `layers` lists them all.
struct LayerGroup {
  std::string name;
  std::vector<std::string> layers;
  int count() const { return int(layers.size()); }
};

struct ConvLayer : LayerGroup {
  Conv2dGeometry g;
  // The stem's input is the image: a training step never needs its input gradient.
  bool needs_input_grad = true;
};

struct IabnLayer : LayerGroup {
  ActivationShape shape;
  bool leaky = true;  // leaky ReLU 0.01; false: identity (after bn3 and the projection)
};

struct ActivationLayer : LayerGroup {
  ActivationShape shape;
};

// {n, in_h, in_w, c} -> {n, out_h, out_w, c}: adaptive pooling or bilinear resize.
struct ResampleLayer : LayerGroup {
  ActivationShape input;
  std::int64_t out_height = 0, out_width = 0;
};

struct ClassifierLayer : LayerGroup {
  ActivationShape features;  // {n, h, w, 512}
  std::int64_t classes = 0;
};

struct ParameterTensor {
  std::string name;
  std::vector<std::int64_t> shape;
  std::int64_t elements() const;
};

struct NetworkShapes {
  BatchConfig config;
  std::int64_t classes = 13;  // StreetHazards' known classes
  int deepsup_channels = 512;
  std::vector<ConvLayer> convs;
  std::vector<IabnLayer> iabns;
  std::vector<ActivationLayer> residuals;        // add + leaky ReLU at the end of each block
  std::vector<ActivationLayer> max_pools;        // the stem's 3x3/2 pad 1 pool: its input
  std::vector<ResampleLayer> adaptive_pools;     // PPM bins
  std::vector<ResampleLayer> resizes;            // PPM upsampling, logits to the crop size
  std::vector<ActivationLayer> concats;          // the PPM concat: its output
  std::vector<std::int64_t> concat_inputs;       // channels of each concat input, in order
  std::vector<ActivationLayer> dropouts;         // Dropout2d(0.1) of the head and deep supervision
  std::vector<ClassifierLayer> classifiers;      // cosine classifiers, main and deep supervision
  std::vector<ActivationLayer> cross_entropies;  // the logits at crop size {n, H, W, classes}
  std::vector<ParameterTensor> parameters;       // every trained tensor (the SGD step's input)

  std::int64_t parameter_count() const;
  // Multiply-accumulates of one forward pass of the whole batch: convolutions (each layer counted)
  // and the classifiers' dot products.
  double conv_macs() const;
  double classifier_macs() const;
};

// deepsup_channels: pans' deep-supervision conv is 1024 -> 512
// (docs/method.md#psp-head-and-deep-supervision); the reference layer count of
// docs/benchmarks.md#flop-count (perf_flops.py) has 1024 -> 256, so 256 reproduces its FLOP figures
// exactly.
NetworkShapes network_shapes(const BatchConfig& config, int deepsup_channels = 512);

}  // namespace pans::bench
