// CPU pooling: plain loop nests, the oracle for the CUDA kernels.
#pragma once

#include <cstdint>

#include "kernels/shared/max_pool2d_geometry.h"
#include "kernels/shared/resample_geometry.h"

namespace pans::cpu {

template <class T>
void max_pool2d_forward(const MaxPool2dGeometry& g, const T* x, T* y, std::int32_t* argmax);
template <class T>
void max_pool2d_backward(const MaxPool2dGeometry& g, const T* dy, const std::int32_t* argmax, T* dx);

template <class T>
void adaptive_avg_pool2d_forward(const ResampleGeometry& g, const T* x, T* y);
template <class T>
void adaptive_avg_pool2d_backward(const ResampleGeometry& g, const T* dy, T* dx);

}  // namespace pans::cpu
