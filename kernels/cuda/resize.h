// CUDA launchers behind kernels/resize.h, float32 only (declared in every build, defined only with
// CUDA). Pointers are device pointers; tensors are NHWC and contiguous.
#pragma once

#include "kernels/cpu/resample_geometry.h"

namespace pans::cuda {

void resize_bilinear_forward(const cpu::ResampleGeometry& g, const float* x, float* y);
void resize_bilinear_backward(const cpu::ResampleGeometry& g, const float* dy, float* dx);

}  // namespace pans::cuda
