// CUDA launchers behind kernels/residual.h (declared in every build, defined only with CUDA).
// Pointers are device arrays of `count` elements of the storage type T, float or pans::bf16
// (instantiated for both; arithmetic in float or wider either way); out may be branch or shortcut,
// and dinput may be dout (the very same pointer; partly overlapping arrays are not supported).
#pragma once

#include <cstdint>

namespace pans::cuda {

template <class T>
void residual_add_leaky_forward(std::int64_t count, const T* branch, const T* shortcut, T* out, double slope);
template <class T>
void residual_add_leaky_backward(std::int64_t count, const T* out, const T* dout, T* dinput, double slope);

}  // namespace pans::cuda
