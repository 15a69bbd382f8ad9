#include "layers/dropout2d.h"

#include "kernels/dropout.h"

namespace pans {

Dropout2d::Dropout2d(const std::string& name, double p, std::uint64_t seed) : name_(name), p_(p), seed_(seed) {
  PANS_CHECK(p >= 0 && p < 1, "Dropout2d ", name, ": p must be in [0, 1), got ", p);
}

std::uint64_t Dropout2d::stream_of_step(std::uint64_t step) const {
  return name_stream(name_ + "@" + std::to_string(step));
}

Tensor Dropout2d::forward(const Tensor& x, Mode mode, std::uint64_t step) {
  if (mode == Mode::Eval || p_ == 0) {
    mask_ = Tensor();
    return x;
  }
  mask_ = Tensor::empty({x.dim(0), x.dim(3)}, x.dtype(), x.device());
  dropout2d_mask(mask_, p_, seed_, stream_of_step(step));
  Tensor y = Tensor::empty(x.shape(), x.dtype(), x.device());
  dropout2d_forward(x, mask_, y);
  return y;
}

void Dropout2d::backward(const Tensor& dy, Tensor& dx) {
  if (mask_.defined()) {
    dropout2d_backward(dy, mask_, dx);
    mask_ = Tensor();
  } else if (dx.raw_data() != dy.raw_data()) {
    dx.copy_from(dy);
  }
}

}  // namespace pans
