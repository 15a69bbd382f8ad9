// Conv2d: a convolution with weight {out, k, k, in} and an optional bias {out}
// (kernels/conv2d.h), holding its parameters and the input its weight gradient needs.
//
// Initialisation: Kaiming normal for the leaky ReLU 0.01 that follows every convolution of the
// model, w ~ N(0, 2 / ((1 + 0.01^2) fan_in)), fan_in = k*k*in (PyTorch's
// kaiming_normal_(a=0.01, mode='fan_in', nonlinearity='leaky_relu')); bias 0.
//
// forward:  y (=), a new tensor. Saves a reference to x (no copy): x must not be modified until
//           backward, and nothing in the model does (a convolution's input is an iABN output, a
//           block output or the image, none of which is overwritten later).
// backward: dw (+=), db (+=); dx (=), a new tensor, unless InputGradient::Skip (the stem, whose
//           input is the image). Releases the saved input.
#pragma once

#include <string>
#include <vector>

#include "kernels/conv2d.h"
#include "layers/parameter.h"

namespace pans {

struct Conv2dConfig {
  std::int64_t in_channels = 0;
  std::int64_t out_channels = 0;
  int kernel_size = 1;
  Conv2dParams params;  // stride, padding, dilation
  bool bias = false;
};

enum class InputGradient { Compute, Skip };

class Conv2d {
 public:
  // Parameters "<name>.weight" and, with a bias, "<name>.bias".
  Conv2d(const std::string& name, const Conv2dConfig& config, const LayerOptions& options);

  Tensor forward(const Tensor& x);
  Tensor backward(const Tensor& dy, InputGradient input_gradient = InputGradient::Compute);

  void append_parameters(std::vector<Parameter>& out) const;
  const Conv2dConfig& config() const { return config_; }
  std::int64_t output_size(std::int64_t input_size) const;

  Parameter weight;
  Parameter bias;  // value undefined without a bias

 private:
  Conv2dConfig config_;
  Tensor input_;  // saved by forward for the weight gradient
};

}  // namespace pans
