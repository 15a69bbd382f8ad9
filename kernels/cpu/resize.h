// CPU bilinear resize: plain loop nests, the oracle for the CUDA kernels.
#pragma once

#include <cstdint>

#include "kernels/shared/resample_geometry.h"

namespace pans::cpu {

template <class T>
void resize_bilinear_forward(const ResampleGeometry& g, const T* x, T* y);
template <class T>
void resize_bilinear_backward(const ResampleGeometry& g, const T* dy, T* dx);

}  // namespace pans::cpu
