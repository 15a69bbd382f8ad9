#include "layers/residual_add_leaky.h"

#include "kernels/residual.h"

namespace pans {

namespace {
constexpr double kSlope = 0.01;  // docs/method.md#backbone-resnet-50-d8
}  // namespace

Tensor ResidualAddLeaky::forward(const Tensor& branch, const Tensor& shortcut) {
  Tensor out = Tensor::empty(branch.shape(), branch.dtype(), branch.device());
  residual_add_leaky_forward(branch, shortcut, out, kSlope);
  output_ = out;
  return out;
}

void ResidualAddLeaky::backward(const Tensor& dout, Tensor& d) {
  PANS_CHECK(output_.defined(), "ResidualAddLeaky: backward without a forward");
  residual_add_leaky_backward(output_, dout, d, kSlope);
  output_ = Tensor();
}

}  // namespace pans
