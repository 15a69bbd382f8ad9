// CPU softmax and cross-entropy: one row of `classes` logits per pixel, plain loops.
#pragma once

#include <cstdint>

namespace pans::cpu {

template <class T>
void softmax_forward(std::int64_t rows, std::int64_t classes, const T* logits, T* probs);
template <class T>
void softmax_backward(std::int64_t rows, std::int64_t classes, const T* probs, const T* dprobs, T* dlogits);

// One counted pixel: writes its gradient row (softmax minus one-hot, times gradient_scale) and
// returns its loss -log p_label. The fast path (kernels/cpu_fast/cross_entropy.h) shares it.
template <class T>
double cross_entropy_pixel(std::int64_t classes, const T* row, int label, T gradient_scale, T* grad);

// Labels must already be checked: each is ignore_index or below `classes`. Returns the loss.
template <class T>
double softmax_cross_entropy(std::int64_t pixels, std::int64_t classes, const T* logits, const std::uint8_t* labels,
                             int ignore_index, double loss_scale, T* dlogits);

}  // namespace pans::cpu
