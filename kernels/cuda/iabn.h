// CUDA launchers behind kernels/iabn.h (declared in every build, defined only with CUDA). Raw
// device pointers; an {N,H,W,C} activation (x, z, dz, dx) is `rows` = N*H*W rows of `channels`
// values of the storage type T, float or pans::bf16 (instantiated for both); every per-channel
// array (w, b, statistics, sums, dw, db) and the scratch is float32 whatever T is (mixed
// precision), and the arithmetic is float32. The steps mirror the CPU oracle (kernels/cpu/iabn.h)
// so that synchronized iABN can merge statistics or gradient sums across ranks between them. All
// launches go to the legacy default stream.
#pragma once

#include <cstdint>

namespace pans::cuda {

// Floats of device scratch that iabn_batch_statistics and iabn_backward_reduce need for an
// activation of `rows` x `channels` (per-block partial results, merged in a fixed order).
std::int64_t iabn_reduction_scratch_floats(std::int64_t rows, std::int64_t channels);

// mean {C} (=) and biased var {C} (=) of x over its rows >= 1.
template <class T>
void iabn_batch_statistics(const T* x, std::int64_t rows, std::int64_t channels, float* scratch, float* mean,
                           float* var);

// x <- leaky_relu((|w| + eps)(x - mean)/sqrt(var + eps) + b, negative_slope); identity is slope 1.
template <class T>
void iabn_normalize_inplace(T* x, std::int64_t rows, std::int64_t channels, const float* w, const float* b,
                            const float* mean, const float* var, float negative_slope, float eps);

// Momentum update from the biased statistics of `count` >= 2 values per channel.
void iabn_update_running_statistics(std::int64_t channels, float* running_mean, float* running_var, const float* mean,
                                    const float* var, std::int64_t count, double momentum);

// sum_dy {C} (=) and sum_xhat_dy {C} (=) over the rows, y and dy recovered from z and dz; then the
// parameter gradients from these local sums: db += sum_dy, dw += sign(w) sum_xhat_dy.
template <class T>
void iabn_backward_reduce(const T* z, const T* dz, const float* w, const float* b, std::int64_t rows,
                          std::int64_t channels, float negative_slope, float eps, float* scratch, float* sum_dy,
                          float* sum_xhat_dy, float* dw, float* db);

// dx (=) in training mode from the sums over `count` values per channel (the global count under
// synchronized iABN). dx may alias dz.
template <class T>
void iabn_backward_input_train(const T* z, const T* dz, const float* w, const float* b, const float* var,
                               const float* sum_dy, const float* sum_xhat_dy, std::int64_t count, std::int64_t rows,
                               std::int64_t channels, float negative_slope, float eps, T* dx);

// dx (=) in evaluation mode: (|w| + eps)/sqrt(running_var + eps) dy. dx may alias dz.
template <class T>
void iabn_backward_input_eval(const T* z, const T* dz, const float* w, const float* running_var, std::int64_t rows,
                              std::int64_t channels, float negative_slope, float eps, T* dx);

}  // namespace pans::cuda
