// CPU bilinear resize: plain loop nests, the oracle for the CUDA kernels.
#pragma once

#include <cstdint>

namespace pans::cpu {

struct ResizeGeometry {
  std::int64_t batch, in_height, in_width, channels;
  std::int64_t out_height, out_width;
};

template <class T>
void resize_bilinear_forward(const ResizeGeometry& g, const T* x, T* y);
template <class T>
void resize_bilinear_backward(const ResizeGeometry& g, const T* dy, T* dx);

}  // namespace pans::cpu
