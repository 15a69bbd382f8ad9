// CPU residual add + leaky ReLU: the oracle of the CUDA kernels. Element-wise over `count` values;
// each output element is written after its inputs are read, so outputs may alias inputs.
#pragma once

#include <cstdint>

namespace pans::cpu {

template <class T>
void residual_add_leaky_forward(std::int64_t count, const T* branch, const T* shortcut, T* out, double slope);
template <class T>
void residual_add_leaky_backward(std::int64_t count, const T* out, const T* dout, T* dinput, double slope);

}  // namespace pans::cpu
