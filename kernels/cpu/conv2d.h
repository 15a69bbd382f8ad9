// CPU convolution: im2col + OpenBLAS GEMM, one image at a time. The loop-nest definition it must
// equal lives in tests/test_conv2d.cpp, independent of this code.
#pragma once

#include "kernels/shared/conv2d_geometry.h"

namespace pans::cpu {

template <class T>
void conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* bias, T* y);
template <class T>
void conv2d_backward_input(const Conv2dGeometry& g, const T* dy, const T* w, T* dx);
template <class T>
void conv2d_backward_weight(const Conv2dGeometry& g, const T* dy, const T* x, T* dw, T* dbias);

}  // namespace pans::cpu
