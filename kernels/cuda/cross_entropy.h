// CUDA launchers behind kernels/cross_entropy.h, float32 only (declared in every build, defined
// only with CUDA). Pointers are device pointers on the current device; rows of `classes` values,
// as in kernels/cpu/cross_entropy.h.
#pragma once

#include <cstdint>

namespace pans::cuda {

void softmax_forward(std::int64_t rows, std::int64_t classes, const float* logits, float* probs);
void softmax_backward(std::int64_t rows, std::int64_t classes, const float* probs, const float* dprobs, float* dlogits);

// What softmax_cross_entropy found. bad_pixel >= 0 names the first pixel whose label is neither
// below `classes` nor ignore_index (its value in bad_label); dlogits is then left unwritten and
// loss is 0, so the caller can raise the op's error exactly as the CPU path does.
struct CrossEntropyResult {
  double loss = 0.0;
  std::int64_t bad_pixel = -1;
  int bad_label = 0;
};

// Device doubles of scratch softmax_cross_entropy needs for `pixels` pixels (the caller allocates
// them from the caching allocator).
std::int64_t softmax_cross_entropy_scratch_doubles(std::int64_t pixels);

// Writes dlogits (=) and returns the loss (computed deterministically: the same bits on every call
// on one device). Synchronises with the device to return it.
CrossEntropyResult softmax_cross_entropy(std::int64_t pixels, std::int64_t classes, const float* logits,
                                         const std::uint8_t* labels, int ignore_index, double loss_scale,
                                         float* dlogits, double* scratch);

}  // namespace pans::cuda
