#include "kernels/cpu_fast/iabn.h"

#include <cmath>
#include <vector>

#include "kernels/cpu_fast/parallel.h"

namespace pans::cpu_fast {
namespace {

double gamma_hat(double w, double eps) { return std::abs(w) + eps; }

// Rows per chunk: about kElementGrain elements.
std::int64_t row_grain(const IabnGeometry& g) { return std::max<std::int64_t>(1, kElementGrain / g.channels); }

// Per-channel sums of `terms` (sums[k * channels + c] for k < Terms): each chunk of rows sums in
// double into its own partials, and the partials are added in chunk order.
template <int Terms, class Row>
std::vector<double> channel_sums(const IabnGeometry& g, Row row) {
  const std::int64_t grain = row_grain(g), chunks = chunk_count(g.count, grain), width = Terms * g.channels;
  std::vector<double> partials(std::size_t(chunks * width), 0.0);
  parallel_chunks(g.count, grain, [&](std::int64_t chunk, std::int64_t begin, std::int64_t end) {
    double* sums = partials.data() + chunk * width;
    for (std::int64_t r = begin; r < end; ++r) row(r, sums);
  });
  std::vector<double> total(std::size_t(width), 0.0);
  for (std::int64_t chunk = 0; chunk < chunks; ++chunk)
    for (std::int64_t k = 0; k < width; ++k) total[k] += partials[chunk * width + k];
  return total;
}

// z -> (y, dy) of leaky ReLU from its output, in float32: y = z / slope is z * (1 / slope), one
// more rounding than the oracle's division.
struct LeakyFromOutput {
  float inverse_slope, slope;
  explicit LeakyFromOutput(double s) : inverse_slope(float(1.0 / s)), slope(float(s)) {}
  float input(float z) const { return z >= 0.0f ? z : z * inverse_slope; }
  float gradient(float z, float dz) const { return z >= 0.0f ? dz : slope * dz; }
};

}  // namespace

template <>
void iabn_batch_statistics<float>(const IabnGeometry& g, const float* x, float* mean, float* var) {
  const std::int64_t C = g.channels;
  const std::vector<double> sums = channel_sums<1>(g, [&](std::int64_t r, double* s) {
    const float* row = x + r * C;
    for (std::int64_t c = 0; c < C; ++c) s[c] += double(row[c]);
  });
  std::vector<double> channel_mean(static_cast<std::size_t>(C));
  for (std::int64_t c = 0; c < C; ++c) channel_mean[c] = sums[c] / double(g.count);
  const std::vector<double> squares = channel_sums<1>(g, [&](std::int64_t r, double* s) {
    const float* row = x + r * C;
    for (std::int64_t c = 0; c < C; ++c) {
      const double deviation = double(row[c]) - channel_mean[c];
      s[c] += deviation * deviation;
    }
  });
  for (std::int64_t c = 0; c < C; ++c) {
    mean[c] = float(channel_mean[c]);
    var[c] = float(squares[c] / double(g.count));
  }
}

// y = (x - mean) * scale + b, scale = gamma / sqrt(var + eps), then leaky ReLU. Centering first
// keeps the error at a few roundings of |y| even when |mean| >> std (a folded x * scale + shift
// would lose |mean| * scale * 2^-24, and tiny batches' channels have tiny std).
template <>
void iabn_normalize_inplace<float>(const IabnGeometry& g, float* x, const float* w, const float* b, const float* mean,
                                   const float* var) {
  const std::int64_t C = g.channels;
  std::vector<float> scale(static_cast<std::size_t>(C));
  for (std::int64_t c = 0; c < C; ++c)
    scale[c] = float(gamma_hat(double(w[c]), g.eps) / std::sqrt(double(var[c]) + g.eps));
  const float slope = float(g.negative_slope);
  parallel_chunks(g.count, row_grain(g), [&](std::int64_t, std::int64_t begin, std::int64_t end) {
    for (std::int64_t r = begin; r < end; ++r) {
      float* row = x + r * C;
      for (std::int64_t c = 0; c < C; ++c) {
        const float y = (row[c] - mean[c]) * scale[c] + b[c];
        row[c] = y >= 0.0f ? y : slope * y;
      }
    }
  });
}

// sum(xhat dy) = (sum(y dy) - b sum(dy)) / gamma: the double sums make the subtraction harmless.
template <>
void iabn_backward_reduce<float>(const IabnGeometry& g, const float* z, const float* dz, const float* w,
                                 const float* b, float* sum_dy, float* sum_xhat_dy) {
  const std::int64_t C = g.channels;
  const LeakyFromOutput leaky(g.negative_slope);
  const std::vector<double> sums = channel_sums<2>(g, [&](std::int64_t r, double* s) {
    const float *zr = z + r * C, *dzr = dz + r * C;
    for (std::int64_t c = 0; c < C; ++c) {
      const float dy = leaky.gradient(zr[c], dzr[c]);
      s[c] += double(dy);
      s[C + c] += double(leaky.input(zr[c])) * double(dy);
    }
  });
  for (std::int64_t c = 0; c < C; ++c) {
    sum_dy[c] = float(sums[c]);
    sum_xhat_dy[c] = float((sums[C + c] - double(b[c]) * sums[c]) / gamma_hat(double(w[c]), g.eps));
  }
}

// dx = k (dy - mean_dy - xhat mean_xhat_dy), k = gamma / sqrt(var + eps), xhat = (y - b) / gamma,
// as dx = k (dy - mean_dy) - q (y - b) with q = k mean_xhat_dy / gamma: the differences first, as
// the oracle, so that no product of a large y with a large constant is cancelled afterwards.
template <>
void iabn_backward_input_train<float>(const IabnGeometry& g, const float* z, const float* dz, const float* w,
                                      const float* b, const float* var, const float* sum_dy, const float* sum_xhat_dy,
                                      std::int64_t count, float* dx) {
  const std::int64_t C = g.channels;
  std::vector<float> k(static_cast<std::size_t>(C)), q(static_cast<std::size_t>(C)), mean_dy(static_cast<std::size_t>(C));
  for (std::int64_t c = 0; c < C; ++c) {
    const double gamma = gamma_hat(double(w[c]), g.eps), kc = gamma / std::sqrt(double(var[c]) + g.eps);
    k[c] = float(kc);
    q[c] = float(kc * double(sum_xhat_dy[c]) / double(count) / gamma);
    mean_dy[c] = float(double(sum_dy[c]) / double(count));
  }
  const LeakyFromOutput leaky(g.negative_slope);
  parallel_chunks(g.count, row_grain(g), [&](std::int64_t, std::int64_t begin, std::int64_t end) {
    for (std::int64_t r = begin; r < end; ++r) {
      const float *zr = z + r * C, *dzr = dz + r * C;
      float* dxr = dx + r * C;
      for (std::int64_t c = 0; c < C; ++c) {
        const float zv = zr[c];
        dxr[c] = k[c] * (leaky.gradient(zv, dzr[c]) - mean_dy[c]) - q[c] * (leaky.input(zv) - b[c]);
      }
    }
  });
}

template <>
void iabn_backward_input_eval<float>(const IabnGeometry& g, const float* z, const float* dz, const float* w,
                                     const float* running_var, float* dx) {
  const std::int64_t C = g.channels;
  std::vector<float> k(static_cast<std::size_t>(C));
  for (std::int64_t c = 0; c < C; ++c)
    k[c] = float(gamma_hat(double(w[c]), g.eps) / std::sqrt(double(running_var[c]) + g.eps));
  const LeakyFromOutput leaky(g.negative_slope);
  parallel_chunks(g.count, row_grain(g), [&](std::int64_t, std::int64_t begin, std::int64_t end) {
    for (std::int64_t r = begin; r < end; ++r)
      for (std::int64_t c = 0; c < C; ++c) dx[r * C + c] = k[c] * leaky.gradient(z[r * C + c], dz[r * C + c]);
  });
}

}  // namespace pans::cpu_fast
