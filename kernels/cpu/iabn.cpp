#include "kernels/cpu/iabn.h"

#include <cmath>
#include <vector>

#include "kernels/shared/leaky_relu.h"

namespace pans::cpu {
namespace {

double gamma_hat(double w, double eps) { return std::abs(w) + eps; }

// Calls visit(i, c) for every element i of a {count, channels} array, c its channel.
template <class Visit>
void for_each_element(const IabnGeometry& g, Visit visit) {
  for (std::int64_t row = 0; row < g.count; ++row)
    for (std::int64_t c = 0; c < g.channels; ++c) visit(row * g.channels + c, c);
}

}  // namespace

template <class T>
void iabn_batch_statistics(const IabnGeometry& g, const T* x, T* mean, T* var) {
  std::vector<double> channel_mean(std::size_t(g.channels), 0.0), squared_deviation(std::size_t(g.channels), 0.0);
  for_each_element(g, [&](std::int64_t i, std::int64_t c) { channel_mean[c] += double(x[i]); });
  for (std::int64_t c = 0; c < g.channels; ++c) channel_mean[c] /= double(g.count);
  for_each_element(g, [&](std::int64_t i, std::int64_t c) {
    const double deviation = double(x[i]) - channel_mean[c];
    squared_deviation[c] += deviation * deviation;
  });
  for (std::int64_t c = 0; c < g.channels; ++c) {
    mean[c] = T(channel_mean[c]);
    var[c] = T(squared_deviation[c] / double(g.count));
  }
}

template <class T>
void iabn_normalize_inplace(const IabnGeometry& g, T* x, const T* w, const T* b, const T* mean, const T* var) {
  std::vector<double> scale(std::size_t(g.channels));
  for (std::int64_t c = 0; c < g.channels; ++c)
    scale[c] = gamma_hat(double(w[c]), g.eps) / std::sqrt(double(var[c]) + g.eps);
  for_each_element(g, [&](std::int64_t i, std::int64_t c) {
    const double y = scale[c] * (double(x[i]) - double(mean[c])) + double(b[c]);
    x[i] = T(leaky_relu(y, g.negative_slope));
  });
}

template <class T>
void iabn_update_running_statistics(std::int64_t channels, T* running_mean, T* running_var, const T* mean, const T* var,
                                    std::int64_t count, double momentum) {
  const double unbiasing = double(count) / double(count - 1);
  for (std::int64_t c = 0; c < channels; ++c) {
    running_mean[c] = T((1 - momentum) * double(running_mean[c]) + momentum * double(mean[c]));
    running_var[c] = T((1 - momentum) * double(running_var[c]) + momentum * double(var[c]) * unbiasing);
  }
}

template <class T>
void iabn_backward_reduce(const IabnGeometry& g, const T* z, const T* dz, const T* w, const T* b, T* sum_dy,
                          T* sum_xhat_dy) {
  std::vector<double> dy_total(std::size_t(g.channels), 0.0), xhat_dy_total(std::size_t(g.channels), 0.0);
  for_each_element(g, [&](std::int64_t i, std::int64_t c) {
    const double y = leaky_relu_input_from_output(double(z[i]), g.negative_slope);
    const double dy = leaky_relu_gradient_from_output(double(z[i]), double(dz[i]), g.negative_slope);
    const double xhat = (y - double(b[c])) / gamma_hat(double(w[c]), g.eps);
    dy_total[c] += dy;
    xhat_dy_total[c] += xhat * dy;
  });
  for (std::int64_t c = 0; c < g.channels; ++c) {
    sum_dy[c] = T(dy_total[c]);
    sum_xhat_dy[c] = T(xhat_dy_total[c]);
  }
}

template <class T>
void iabn_backward_input_train(const IabnGeometry& g, const T* z, const T* dz, const T* w, const T* b, const T* var,
                               const T* sum_dy, const T* sum_xhat_dy, std::int64_t count, T* dx) {
  for_each_element(g, [&](std::int64_t i, std::int64_t c) {
    const double scale = gamma_hat(double(w[c]), g.eps);
    const double y = leaky_relu_input_from_output(double(z[i]), g.negative_slope);
    const double dy = leaky_relu_gradient_from_output(double(z[i]), double(dz[i]), g.negative_slope);
    const double xhat = (y - double(b[c])) / scale;
    const double mean_dy = double(sum_dy[c]) / double(count);
    const double mean_xhat_dy = double(sum_xhat_dy[c]) / double(count);
    dx[i] = T(scale / std::sqrt(double(var[c]) + g.eps) * (dy - mean_dy - xhat * mean_xhat_dy));
  });
}

template <class T>
void iabn_backward_input_eval(const IabnGeometry& g, const T* z, const T* dz, const T* w, const T* running_var, T* dx) {
  for_each_element(g, [&](std::int64_t i, std::int64_t c) {
    const double dy = leaky_relu_gradient_from_output(double(z[i]), double(dz[i]), g.negative_slope);
    dx[i] = T(gamma_hat(double(w[c]), g.eps) / std::sqrt(double(running_var[c]) + g.eps) * dy);
  });
}

template <class T>
void iabn_accumulate_parameter_gradients(std::int64_t channels, const T* w, const T* sum_dy, const T* sum_xhat_dy,
                                         T* dw, T* db) {
  for (std::int64_t c = 0; c < channels; ++c) {
    const T sign = w[c] < T(0) ? T(-1) : T(1);
    db[c] += sum_dy[c];
    dw[c] += sign * sum_xhat_dy[c];
  }
}

#define PANS_INSTANTIATE_IABN(T)                                                                                    \
  template void iabn_batch_statistics<T>(const IabnGeometry&, const T*, T*, T*);                                    \
  template void iabn_normalize_inplace<T>(const IabnGeometry&, T*, const T*, const T*, const T*, const T*);         \
  template void iabn_update_running_statistics<T>(std::int64_t, T*, T*, const T*, const T*, std::int64_t, double);  \
  template void iabn_backward_reduce<T>(const IabnGeometry&, const T*, const T*, const T*, const T*, T*, T*);       \
  template void iabn_backward_input_train<T>(const IabnGeometry&, const T*, const T*, const T*, const T*, const T*, \
                                             const T*, const T*, std::int64_t, T*);                                 \
  template void iabn_backward_input_eval<T>(const IabnGeometry&, const T*, const T*, const T*, const T*, T*);       \
  template void iabn_accumulate_parameter_gradients<T>(std::int64_t, const T*, const T*, const T*, T*, T*);
PANS_INSTANTIATE_IABN(float)
PANS_INSTANTIATE_IABN(double)
#undef PANS_INSTANTIATE_IABN

}  // namespace pans::cpu
