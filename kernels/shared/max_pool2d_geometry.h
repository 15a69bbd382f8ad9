// The geometry of a max pooling (kernels/pool.h defines the op), shared by the CPU oracle and the
// CUDA launchers: {N,H,W,C} to {N,OH,OW,C} through a square window of kernel_size, stride and
// padding (PyTorch's floor mode).
#pragma once

#include <cstdint>

namespace pans {

struct MaxPool2dGeometry {
  std::int64_t batch, in_height, in_width, channels;
  std::int64_t out_height, out_width;
  int kernel_size, stride, padding;
};

}  // namespace pans
