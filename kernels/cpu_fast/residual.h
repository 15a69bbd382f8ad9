// The float32 fast path of residual add + leaky ReLU: the oracle's arithmetic, multi-threaded over
// parallel_chunks, so the results equal kernels/cpu/residual.h's bit for bit. float64 is the
// oracle itself.
#pragma once

#include <cstdint>

#include "kernels/cpu/residual.h"

namespace pans::cpu_fast {

template <class T>
void residual_add_leaky_forward(std::int64_t count, const T* branch, const T* shortcut, T* out, double slope) {
  cpu::residual_add_leaky_forward<T>(count, branch, shortcut, out, slope);
}
template <class T>
void residual_add_leaky_backward(std::int64_t count, const T* out, const T* dout, T* dinput, double slope) {
  cpu::residual_add_leaky_backward<T>(count, out, dout, dinput, slope);
}
template <>
void residual_add_leaky_forward<float>(std::int64_t count, const float* branch, const float* shortcut, float* out,
                                       double slope);
template <>
void residual_add_leaky_backward<float>(std::int64_t count, const float* out, const float* dout, float* dinput,
                                        double slope);

}  // namespace pans::cpu_fast
