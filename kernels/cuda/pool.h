// CUDA launchers behind kernels/pool.h (declared in every build, defined only with CUDA), for the
// storage types T = float and pans::bf16 (arithmetic in float32 either way; argmax is int32).
// Pointers are device pointers; tensors are NHWC and contiguous. The geometry structs are shared
// with the CPU oracle (kernels/shared/), so both devices see the same derived sizes.
#pragma once

#include <cstdint>

#include "kernels/shared/max_pool2d_geometry.h"
#include "kernels/shared/resample_geometry.h"

namespace pans::cuda {

// y and argmax {N,Ho,Wo,C} (=), with the oracle's tie rule (first maximum in row-major window
// order) and NaN rule (a NaN is taken, the last NaN of the window wins).
template <class T>
void max_pool2d_forward(const MaxPool2dGeometry& g, const T* x, T* y, std::int32_t* argmax);
// dx {N,H,W,C} (=). argmax must come from max_pool2d_forward with the same geometry: an index
// outside its window is never matched (the oracle would scatter to it).
template <class T>
void max_pool2d_backward(const MaxPool2dGeometry& g, const T* dy, const std::int32_t* argmax, T* dx);

template <class T>
void adaptive_avg_pool2d_forward(const ResampleGeometry& g, const T* x, T* y);
template <class T>
void adaptive_avg_pool2d_backward(const ResampleGeometry& g, const T* dy, T* dx);

}  // namespace pans::cuda
