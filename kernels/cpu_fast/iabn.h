// The float32 fast path of InPlace-ABN (the oracle: kernels/cpu/iabn.h): multi-threaded
// (parallel.h), per-channel constants computed once in double, the elementwise arithmetic in
// float32. Reductions accumulate in double per chunk of rows and add the chunks in order, so they
// are deterministic and within a few float32 roundings of the oracle; the variance stays two-pass.
// float64, and the per-channel steps, are the oracle itself.
#pragma once

#include <cstdint>

#include "kernels/cpu/iabn.h"

namespace pans::cpu_fast {

using cpu::IabnGeometry;
using cpu::iabn_accumulate_parameter_gradients;
using cpu::iabn_update_running_statistics;

template <class T>
void iabn_batch_statistics(const IabnGeometry& g, const T* x, T* mean, T* var) {
  cpu::iabn_batch_statistics<T>(g, x, mean, var);
}
template <class T>
void iabn_normalize_inplace(const IabnGeometry& g, T* x, const T* w, const T* b, const T* mean, const T* var) {
  cpu::iabn_normalize_inplace<T>(g, x, w, b, mean, var);
}
template <class T>
void iabn_backward_reduce(const IabnGeometry& g, const T* z, const T* dz, const T* w, const T* b, T* sum_dy,
                          T* sum_xhat_dy) {
  cpu::iabn_backward_reduce<T>(g, z, dz, w, b, sum_dy, sum_xhat_dy);
}
template <class T>
void iabn_backward_input_train(const IabnGeometry& g, const T* z, const T* dz, const T* w, const T* b, const T* var,
                               const T* sum_dy, const T* sum_xhat_dy, std::int64_t count, T* dx) {
  cpu::iabn_backward_input_train<T>(g, z, dz, w, b, var, sum_dy, sum_xhat_dy, count, dx);
}
template <class T>
void iabn_backward_input_eval(const IabnGeometry& g, const T* z, const T* dz, const T* w, const T* running_var, T* dx) {
  cpu::iabn_backward_input_eval<T>(g, z, dz, w, running_var, dx);
}

template <>
void iabn_batch_statistics<float>(const IabnGeometry& g, const float* x, float* mean, float* var);
template <>
void iabn_normalize_inplace<float>(const IabnGeometry& g, float* x, const float* w, const float* b, const float* mean,
                                   const float* var);
template <>
void iabn_backward_reduce<float>(const IabnGeometry& g, const float* z, const float* dz, const float* w,
                                 const float* b, float* sum_dy, float* sum_xhat_dy);
template <>
void iabn_backward_input_train<float>(const IabnGeometry& g, const float* z, const float* dz, const float* w,
                                      const float* b, const float* var, const float* sum_dy, const float* sum_xhat_dy,
                                      std::int64_t count, float* dx);
template <>
void iabn_backward_input_eval<float>(const IabnGeometry& g, const float* z, const float* dz, const float* w,
                                     const float* running_var, float* dx);

}  // namespace pans::cpu_fast
