#include "layers/conv2d.h"

#include <cmath>

namespace pans {
namespace {

constexpr double kFollowingLeakySlope = 0.01;

}  // namespace

Conv2d::Conv2d(const std::string& name, const Conv2dConfig& config, const LayerOptions& options) : config_(config) {
  PANS_CHECK(config.in_channels > 0 && config.out_channels > 0 && config.kernel_size > 0, "Conv2d ", name,
             ": invalid channels ", config.in_channels, " -> ", config.out_channels, " or kernel ", config.kernel_size);
  const int k = config.kernel_size;
  const double fan_in = double(k * k * config.in_channels);
  const double gain_squared = 2.0 / (1.0 + kFollowingLeakySlope * kFollowingLeakySlope);
  weight = normal_parameter(child_name(name, "weight"), {config.out_channels, k, k, config.in_channels},
                            std::sqrt(gain_squared / fan_in), options);
  if (config.bias) bias = constant_parameter(child_name(name, "bias"), {config.out_channels}, 0.0, options);
}

Tensor Conv2d::forward(const Tensor& x) {
  input_ = x;
  return conv2d_forward(x, weight.value, bias.value, config_.params);
}

Tensor Conv2d::backward(const Tensor& dy, InputGradient input_gradient) {
  PANS_CHECK(input_.defined(), "Conv2d ", weight.name, ": backward without a forward");
  conv2d_backward_weight(dy, input_, weight.grad, bias.grad, config_.params);
  Tensor dx;
  if (input_gradient == InputGradient::Compute) {
    dx = Tensor::empty(input_.shape(), input_.dtype(), input_.device());
    conv2d_backward_input(dy, weight.value, dx, config_.params);
  }
  input_ = Tensor();
  return dx;
}

void Conv2d::append_parameters(std::vector<Parameter>& out) const {
  out.push_back(weight);
  if (bias.value.defined()) out.push_back(bias);
}

std::int64_t Conv2d::output_size(std::int64_t input_size) const {
  return conv2d_output_size(input_size, config_.kernel_size, config_.params);
}

}  // namespace pans
