// CUDA launchers behind kernels/resize.h (declared in every build, defined only with CUDA), for the
// storage types T = float and pans::bf16 (arithmetic in float32 either way). Pointers are device
// pointers; tensors are NHWC and contiguous.
#pragma once

#include "kernels/shared/resample_geometry.h"

namespace pans::cuda {

template <class T>
void resize_bilinear_forward(const ResampleGeometry& g, const T* x, T* y);
template <class T>
void resize_bilinear_backward(const ResampleGeometry& g, const T* dy, T* dx);

}  // namespace pans::cuda
