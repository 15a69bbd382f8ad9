// CPU convolution: im2col + OpenBLAS GEMM, one image at a time. The loop-nest definition it must
// equal lives in tests/test_conv2d.cpp, independent of this code.
#pragma once

#include <cstdint>

namespace pans::cpu {

struct Conv2dGeometry {
  std::int64_t batch, in_height, in_width, in_channels;
  std::int64_t out_channels, kernel_height, kernel_width;
  std::int64_t out_height, out_width;
  int stride, padding, dilation;
};

template <class T>
void conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* bias, T* y);
template <class T>
void conv2d_backward_input(const Conv2dGeometry& g, const T* dy, const T* w, T* dx);
template <class T>
void conv2d_backward_weight(const Conv2dGeometry& g, const T* dy, const T* x, T* dw, T* dbias);

}  // namespace pans::cpu
