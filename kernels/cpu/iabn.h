// CPU InPlace-ABN: the oracle of the CUDA kernels. A {N,H,W,C} tensor is seen as `count` = N*H*W
// rows of C channels. Reductions and arithmetic run in double for both element types, and the
// variance is two-pass (never E[x^2] - E[x]^2, which cancels catastrophically when |mean| >> std).
//
// The identity activation is passed as leaky ReLU with slope 1 (see leaky_relu.h).
#pragma once

#include <cstdint>

namespace pans::cpu {

struct IabnGeometry {
  std::int64_t count, channels;
  double negative_slope, eps;
};

template <class T>
void iabn_batch_statistics(const IabnGeometry& g, const T* x, T* mean, T* var);
template <class T>
void iabn_normalize_inplace(const IabnGeometry& g, T* x, const T* w, const T* b, const T* mean, const T* var);
// `count` may differ from g.count: with synchronized iABN it is the global count.
template <class T>
void iabn_update_running_statistics(std::int64_t channels, T* running_mean, T* running_var, const T* mean, const T* var,
                                    std::int64_t count, double momentum);

// Per-channel sum(dy) and sum(xhat dy) (=), with y and dy recovered from z and dz.
template <class T>
void iabn_backward_reduce(const IabnGeometry& g, const T* z, const T* dz, const T* w, const T* b, T* sum_dy,
                          T* sum_xhat_dy);
// dx (=) from the sums, which cover `count` values per channel (the global count under sync).
// Element i of dx is written after z[i] and dz[i] are read, so dx may alias dz.
template <class T>
void iabn_backward_input_train(const IabnGeometry& g, const T* z, const T* dz, const T* w, const T* b, const T* var,
                               const T* sum_dy, const T* sum_xhat_dy, std::int64_t count, T* dx);
template <class T>
void iabn_backward_input_eval(const IabnGeometry& g, const T* z, const T* dz, const T* w, const T* running_var, T* dx);
// db += sum_dy, dw += sign(w) sum_xhat_dy with sign(0) = +1.
template <class T>
void iabn_accumulate_parameter_gradients(std::int64_t channels, const T* w, const T* sum_dy, const T* sum_xhat_dy,
                                         T* dw, T* db);

}  // namespace pans::cpu
