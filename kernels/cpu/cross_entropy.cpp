#include "kernels/cpu/cross_entropy.h"

#include <algorithm>
#include <cmath>

namespace pans::cpu {
namespace {

// Writes exp(l - max l) into out and returns its sum and the max.
template <class T>
void shifted_exponentials(std::int64_t classes, const T* logits, T* out, T& max_logit, T& sum) {
  max_logit = *std::max_element(logits, logits + classes);
  sum = 0;
  for (std::int64_t k = 0; k < classes; ++k) {
    out[k] = std::exp(logits[k] - max_logit);
    sum += out[k];
  }
}

}  // namespace

template <class T>
void softmax_forward(std::int64_t rows, std::int64_t classes, const T* logits, T* probs) {
  for (std::int64_t r = 0; r < rows; ++r) {
    T* row = probs + r * classes;
    T max_logit, sum;
    shifted_exponentials(classes, logits + r * classes, row, max_logit, sum);
    for (std::int64_t k = 0; k < classes; ++k) row[k] /= sum;
  }
}

template <class T>
void softmax_backward(std::int64_t rows, std::int64_t classes, const T* probs, const T* dprobs, T* dlogits) {
  for (std::int64_t r = 0; r < rows; ++r) {
    const T* p = probs + r * classes;
    const T* dp = dprobs + r * classes;
    T weighted = 0;
    for (std::int64_t k = 0; k < classes; ++k) weighted += p[k] * dp[k];
    for (std::int64_t k = 0; k < classes; ++k) dlogits[r * classes + k] = p[k] * (dp[k] - weighted);
  }
}

template <class T>
double cross_entropy_pixel(std::int64_t classes, const T* row, int label, T gradient_scale, T* grad) {
  T max_logit, sum;
  shifted_exponentials(classes, row, grad, max_logit, sum);
  for (std::int64_t k = 0; k < classes; ++k) grad[k] = (grad[k] / sum - T(k == label)) * gradient_scale;
  // -log p_label = log sum exp(l - max) - (l_label - max), finite for any finite logits.
  return double(std::log(sum) - (row[label] - max_logit));
}

template <class T>
double softmax_cross_entropy(std::int64_t pixels, std::int64_t classes, const T* logits, const std::uint8_t* labels,
                             int ignore_index, double loss_scale, T* dlogits) {
  const std::int64_t counted = pixels - std::count(labels, labels + pixels, ignore_index);
  std::fill(dlogits, dlogits + pixels * classes, T(0));
  if (counted == 0) return 0.0;
  const T gradient_scale = T(loss_scale / double(counted));
  double loss_sum = 0.0;
  for (std::int64_t p = 0; p < pixels; ++p) {
    if (labels[p] == ignore_index) continue;
    loss_sum += cross_entropy_pixel(classes, logits + p * classes, labels[p], gradient_scale, dlogits + p * classes);
  }
  return loss_scale * loss_sum / double(counted);
}

#define PANS_INSTANTIATE_CROSS_ENTROPY(T)                                                \
  template void softmax_forward<T>(std::int64_t, std::int64_t, const T*, T*);            \
  template double cross_entropy_pixel<T>(std::int64_t, const T*, int, T, T*);             \
  template void softmax_backward<T>(std::int64_t, std::int64_t, const T*, const T*, T*); \
  template double softmax_cross_entropy<T>(std::int64_t, std::int64_t, const T*, const std::uint8_t*, int, double, T*);
PANS_INSTANTIATE_CROSS_ENTROPY(float)
PANS_INSTANTIATE_CROSS_ENTROPY(double)
#undef PANS_INSTANTIATE_CROSS_ENTROPY

}  // namespace pans::cpu
