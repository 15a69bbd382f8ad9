// The float32 fast path of the fused softmax cross-entropy (the oracle: kernels/cpu/cross_entropy.h):
// the oracle's per-pixel arithmetic (cpu::cross_entropy_pixel), so every gradient equals the
// oracle's bit for bit, over chunks of pixels in parallel. The loss sums each chunk's pixels in
// double and the chunks in order: deterministic, and the oracle's double sum reassociated.
// float64 is the oracle itself.
#pragma once

#include <cstdint>

#include "kernels/cpu/cross_entropy.h"

namespace pans::cpu_fast {

template <class T>
double softmax_cross_entropy(std::int64_t pixels, std::int64_t classes, const T* logits, const std::uint8_t* labels,
                             int ignore_index, double loss_scale, T* dlogits) {
  return cpu::softmax_cross_entropy<T>(pixels, classes, logits, labels, ignore_index, loss_scale, dlogits);
}
template <>
double softmax_cross_entropy<float>(std::int64_t pixels, std::int64_t classes, const float* logits,
                                    const std::uint8_t* labels, int ignore_index, double loss_scale, float* dlogits);

}  // namespace pans::cpu_fast
