// The float32 fast path of the CPU convolution (the oracle: kernels/cpu/conv2d.h): the same
// im2col + GEMM, with the work cut into tasks of (image, range of output pixels) that run in
// parallel on the pool of parallel.h, each task one single-threaded OpenBLAS GEMM on its own
// column rows. Pointwise (1x1, stride 1, no padding) convolutions are GEMMs on the activation
// itself, without columns.
//
// An image is split into ceil(threads / batch) pixel ranges, so the batch alone feeds the threads
// whenever it has at least as many images; the input gradient of a convolution with columns
// splits by image only (its column-to-image scatter overlaps between neighbouring pixels). The
// weight gradient sums each task's GEMM result in task order: deterministic, and a function of
// the thread count only through the split (so resume bit-exactly with the same --threads).
// float64 is the oracle itself.
#pragma once

#include "kernels/cpu/conv2d.h"

namespace pans::cpu_fast {

template <class T>
void conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* bias, T* y) {
  cpu::conv2d_forward<T>(g, x, w, bias, y);
}
template <class T>
void conv2d_backward_input(const Conv2dGeometry& g, const T* dy, const T* w, T* dx) {
  cpu::conv2d_backward_input<T>(g, dy, w, dx);
}
template <class T>
void conv2d_backward_weight(const Conv2dGeometry& g, const T* dy, const T* x, T* dw, T* dbias) {
  cpu::conv2d_backward_weight<T>(g, dy, x, dw, dbias);
}

template <>
void conv2d_forward<float>(const Conv2dGeometry& g, const float* x, const float* w, const float* bias, float* y);
template <>
void conv2d_backward_input<float>(const Conv2dGeometry& g, const float* dy, const float* w, float* dx);
template <>
void conv2d_backward_weight<float>(const Conv2dGeometry& g, const float* dy, const float* x, float* dw, float* dbias);

}  // namespace pans::cpu_fast
