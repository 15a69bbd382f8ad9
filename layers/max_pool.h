// MaxPool2d: the stem's 3x3 stride 2 pad 1 max pool (kernels/pool.h).
//
// forward:  y (=), a new tensor; saves the int32 argmax {N,Ho,Wo,C} and x's shape (not x).
// backward: dx (=), a new tensor. Releases the argmax.
#pragma once

#include "kernels/pool.h"

namespace pans {

class MaxPool2d {
 public:
  explicit MaxPool2d(const MaxPool2dParams& params = {}) : params_(params) {}

  Tensor forward(const Tensor& x);
  Tensor backward(const Tensor& dy);

  std::int64_t output_size(std::int64_t input_size) const { return max_pool2d_output_size(input_size, params_); }

 private:
  MaxPool2dParams params_;
  Tensor argmax_;
  Shape input_shape_;
};

}  // namespace pans
