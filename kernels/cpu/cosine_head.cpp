#include "kernels/cpu/cosine_head.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace pans::cpu {
namespace {

template <class T>
T dot(std::int64_t n, const T* a, const T* b) {
  T sum = 0;
  for (std::int64_t i = 0; i < n; ++i) sum += a[i] * b[i];
  return sum;
}

template <class T>
T norm(std::int64_t n, const T* v) {
  return std::sqrt(dot(n, v, v));
}

}  // namespace

template <class T>
void l2_normalize_rows(std::int64_t rows, std::int64_t cols, const T* v, T* y) {
  const T epsilon = T(kL2NormalizeEpsilon);
  for (std::int64_t r = 0; r < rows; ++r) {
    const T* row = v + r * cols;
    const T divisor = std::max(norm(cols, row), epsilon);
    for (std::int64_t c = 0; c < cols; ++c) y[r * cols + c] = row[c] / divisor;
  }
}

template <class T>
void l2_normalize_rows_backward(std::int64_t rows, std::int64_t cols, const T* v, const T* dy, T* dv) {
  const T epsilon = T(kL2NormalizeEpsilon);
  for (std::int64_t r = 0; r < rows; ++r) {
    const T* row = v + r * cols;
    const T* row_grad = dy + r * cols;
    T* out = dv + r * cols;
    const T length = norm(cols, row);
    if (length <= epsilon) {
      // y = v / epsilon is linear here.
      for (std::int64_t c = 0; c < cols; ++c) out[c] = row_grad[c] / epsilon;
      continue;
    }
    // dv is dy with its component along y removed, scaled by 1/|v|.
    const T projection = dot(cols, row, row_grad) / length;
    for (std::int64_t c = 0; c < cols; ++c) out[c] = (row_grad[c] - row[c] / length * projection) / length;
  }
}

template <class T>
void cosine_classifier_forward(const ClassifierGeometry& g, const T* f, const T* w, double tau, T* logits) {
  std::vector<T> unit_w(std::size_t(g.classes * g.channels)), unit_f(std::size_t(g.channels));
  l2_normalize_rows(g.classes, g.channels, w, unit_w.data());
  for (std::int64_t p = 0; p < g.pixels; ++p) {
    l2_normalize_rows(1, g.channels, f + p * g.channels, unit_f.data());
    for (std::int64_t k = 0; k < g.classes; ++k)
      logits[p * g.classes + k] = T(tau) * dot(g.channels, unit_f.data(), unit_w.data() + k * g.channels);
  }
}

template <class T>
void cosine_classifier_backward(const ClassifierGeometry& g, const T* dlogits, const T* f, const T* w, double tau,
                                T* df, T* dw) {
  const std::size_t weight_size = std::size_t(g.classes * g.channels);
  std::vector<T> unit_w(weight_size), unit_w_grad(weight_size, T(0));
  std::vector<T> unit_f(std::size_t(g.channels)), unit_f_grad(std::size_t(g.channels));
  l2_normalize_rows(g.classes, g.channels, w, unit_w.data());
  for (std::int64_t p = 0; p < g.pixels; ++p) {
    l2_normalize_rows(1, g.channels, f + p * g.channels, unit_f.data());
    std::fill(unit_f_grad.begin(), unit_f_grad.end(), T(0));
    for (std::int64_t k = 0; k < g.classes; ++k) {
      const T scaled_grad = T(tau) * dlogits[p * g.classes + k];
      for (std::int64_t c = 0; c < g.channels; ++c) {
        unit_f_grad[c] += scaled_grad * unit_w[k * g.channels + c];
        unit_w_grad[k * g.channels + c] += scaled_grad * unit_f[c];
      }
    }
    l2_normalize_rows_backward(1, g.channels, f + p * g.channels, unit_f_grad.data(), df + p * g.channels);
  }
  std::vector<T> w_grad(weight_size);
  l2_normalize_rows_backward(g.classes, g.channels, w, unit_w_grad.data(), w_grad.data());
  for (std::size_t i = 0; i < weight_size; ++i) dw[i] += w_grad[i];
}

template <class T>
void linear_classifier_forward(const ClassifierGeometry& g, const T* f, const T* w, const T* bias, T* logits) {
  for (std::int64_t p = 0; p < g.pixels; ++p)
    for (std::int64_t k = 0; k < g.classes; ++k)
      logits[p * g.classes + k] =
          (bias != nullptr ? bias[k] : T(0)) + dot(g.channels, f + p * g.channels, w + k * g.channels);
}

template <class T>
void linear_classifier_backward(const ClassifierGeometry& g, const T* dlogits, const T* f, const T* w, T* df, T* dw,
                                T* dbias) {
  std::fill(df, df + g.pixels * g.channels, T(0));
  for (std::int64_t p = 0; p < g.pixels; ++p)
    for (std::int64_t k = 0; k < g.classes; ++k) {
      const T grad = dlogits[p * g.classes + k];
      for (std::int64_t c = 0; c < g.channels; ++c) {
        df[p * g.channels + c] += grad * w[k * g.channels + c];
        dw[k * g.channels + c] += grad * f[p * g.channels + c];
      }
      if (dbias != nullptr) dbias[k] += grad;
    }
}

template <class T>
void cosine_max_similarity(std::int64_t pixels, std::int64_t classes, const T* logits, double tau, T* similarity) {
  // Dividing by tau > 0 is monotone, so the max may be taken before the division.
  for (std::int64_t p = 0; p < pixels; ++p)
    similarity[p] = *std::max_element(logits + p * classes, logits + (p + 1) * classes) / T(tau);
}

#define PANS_INSTANTIATE_COSINE_HEAD(T)                                                                             \
  template void l2_normalize_rows<T>(std::int64_t, std::int64_t, const T*, T*);                                     \
  template void l2_normalize_rows_backward<T>(std::int64_t, std::int64_t, const T*, const T*, T*);                  \
  template void cosine_classifier_forward<T>(const ClassifierGeometry&, const T*, const T*, double, T*);            \
  template void cosine_classifier_backward<T>(const ClassifierGeometry&, const T*, const T*, const T*, double, T*,  \
                                              T*);                                                                  \
  template void linear_classifier_forward<T>(const ClassifierGeometry&, const T*, const T*, const T*, T*);          \
  template void linear_classifier_backward<T>(const ClassifierGeometry&, const T*, const T*, const T*, T*, T*, T*); \
  template void cosine_max_similarity<T>(std::int64_t, std::int64_t, const T*, double, T*);
PANS_INSTANTIATE_COSINE_HEAD(float)
PANS_INSTANTIATE_COSINE_HEAD(double)
#undef PANS_INSTANTIATE_COSINE_HEAD

}  // namespace pans::cpu
