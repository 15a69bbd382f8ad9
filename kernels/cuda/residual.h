// CUDA launchers behind kernels/residual.h (declared in every build, defined only with CUDA).
// Pointers are float32 device arrays of `count` elements; out may be branch or shortcut, and
// dinput may be dout (the very same pointer; partly overlapping arrays are not supported).
#pragma once

#include <cstdint>

namespace pans::cuda {

void residual_add_leaky_forward(std::int64_t count, const float* branch, const float* shortcut, float* out,
                                double slope);
void residual_add_leaky_backward(std::int64_t count, const float* out, const float* dout, float* dinput, double slope);

}  // namespace pans::cuda
