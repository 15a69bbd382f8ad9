#include "layers/max_pool.h"

namespace pans {

Tensor MaxPool2d::forward(const Tensor& x) {
  MaxPool2dOutput pooled = max_pool2d_forward(x, params_);
  argmax_ = pooled.argmax;
  input_shape_ = x.shape();
  return pooled.y;
}

Tensor MaxPool2d::backward(const Tensor& dy) {
  PANS_CHECK(argmax_.defined(), "MaxPool2d: backward without a forward");
  Tensor dx = Tensor::empty(input_shape_, dy.dtype(), dy.device());
  max_pool2d_backward(dy, argmax_, dx, params_);
  argmax_ = Tensor();
  return dx;
}

}  // namespace pans
