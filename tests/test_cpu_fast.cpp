// The float32 fast path of the CPU (kernels/cpu_fast/) against the oracle (kernels/cpu/), called
// as raw kernels on the same float32 inputs; the oracle computes in double and rounds once.
//
// Tolerances, per kernel:
// - Residual add + leaky ReLU, and the cross-entropy's gradient: none, the fast path does the
//   oracle's arithmetic. The cross-entropy's loss adds the same per-pixel doubles in another order:
//   n non-negative terms reassociated stay within n * 2^-53 of the sum, relative.
// - Convolutions: every output is a sum of n products (n = kh*kw*Cin forward, Cout for the input
//   gradient, batch*Ho*Wo for the weight gradient). Float32 summation in any order, and the
//   products' rounding, stay within gamma_n = n*u / (1 - n*u) (u = 2^-24) of sum |a_i b_i|
//   (Higham, Accuracy and Stability of Numerical Algorithms, 3.1), and the oracle's double result
//   rounded to float32 adds u |y|. So |fast - oracle| <= gamma_n * (|a| conv |b|) + u |y| per
//   element, with |a| conv |b| the same convolution of the absolute values, computed by the oracle.
//   A wrong tap, a lost task or a task summed twice is off by a whole product, far beyond it.
// - InPlace-ABN: inputs O(1), weights 0.4..1.3, 1/std ~ 1.7: each output is a few float32
//   roundings (2^-24 ~ 6e-8) of O(1..10) intermediates, bounded by 1e-5 of max(1, |a|, |b|) (the
//   CUDA kernels' bound, tests/test_cuda_iabn.cpp); the sums accumulate in double and round once.
//   A dropped term (a mean, a channel constant) moves values by 1e-2 or more.
// Reductions must not depend on the thread count: the iABN sums give the same bits on 1 and 3 threads.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "kernels/cpu/conv2d.h"
#include "kernels/cpu/cross_entropy.h"
#include "kernels/cpu/iabn.h"
#include "kernels/cpu/residual.h"
#include "kernels/cpu_fast/conv2d.h"
#include "kernels/cpu_fast/cross_entropy.h"
#include "kernels/cpu_fast/iabn.h"
#include "kernels/cpu_fast/parallel.h"
#include "kernels/cpu_fast/residual.h"

using namespace pans;

namespace {

constexpr double kUnit = 1.0 / (1 << 24);  // float32's unit roundoff

std::vector<float> uniform(std::size_t count, unsigned seed, float low = -1, float high = 1) {
  std::mt19937 random(seed);
  std::uniform_real_distribution<float> distribution(low, high);
  std::vector<float> values(count);
  for (float& v : values) v = distribution(random);
  return values;
}

std::vector<float> absolute(std::vector<float> values) {
  for (float& v : values) v = std::abs(v);
  return values;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Every element within gamma_n * bound + u |oracle| (see the top).
void check_within_summation_bound(const std::vector<float>& fast, const std::vector<float>& oracle,
                                  const std::vector<float>& abs_bound, std::int64_t n) {
  const double gamma = double(n) * kUnit / (1 - double(n) * kUnit);
  std::size_t bad = 0;
  for (std::size_t i = 0; i < fast.size(); ++i)
    if (std::abs(double(fast[i]) - double(oracle[i])) >
        gamma * double(abs_bound[i]) * (1 + 2 * kUnit) + kUnit * std::abs(double(oracle[i])))
      ++bad;
  CHECK(bad == 0);
}

void check_scaled(const std::vector<float>& fast, const std::vector<float>& oracle, double bound) {
  double worst = 0;
  for (std::size_t i = 0; i < fast.size(); ++i) {
    const double a = fast[i], b = oracle[i];
    worst = std::max(worst, std::abs(a - b) / std::max({1.0, std::abs(a), std::abs(b)}));
  }
  CHECK(worst < bound);
}

Conv2dGeometry conv_geometry(std::int64_t batch, std::int64_t size, std::int64_t cin, std::int64_t cout, int kernel,
                             int stride, int padding, int dilation) {
  const std::int64_t out = (size + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;
  return {batch, size, size, cin, cout, kernel, kernel, out, out, stride, padding, dilation};
}

// Restores the default pool size when a test changes it.
struct Threads {
  explicit Threads(int count) { cpu_fast::set_threads(count, "--threads"); }
  ~Threads() { cpu_fast::set_threads(std::nullopt, "--threads"); }
};

}  // namespace

TEST_CASE("cpu fast pool runs every task exactly once, and nested calls inline") {
  Threads threads(3);
  for (std::int64_t count : {0, 1, 2, 3, 7, 64, 1000}) {
    std::vector<std::atomic<int>> runs(std::size_t(std::max<std::int64_t>(count, 1)));
    for (int repeat = 0; repeat < 20; ++repeat)
      cpu_fast::parallel_tasks(count, [&](std::int64_t t) { runs[std::size_t(t)] += 1; });
    for (std::int64_t t = 0; t < count; ++t) CHECK(runs[std::size_t(t)] == 20);
  }
  std::atomic<int> inner{0};
  cpu_fast::parallel_tasks(4, [&](std::int64_t) { cpu_fast::parallel_tasks(5, [&](std::int64_t) { ++inner; }); });
  CHECK(inner == 20);
  CHECK(cpu_fast::thread_count() == 3);
}

TEST_CASE("cpu fast residual add leaky relu equals the oracle bit for bit") {
  const std::int64_t count = 3 * cpu_fast::kElementGrain + 17;  // several chunks and a partial one
  std::vector<float> branch = uniform(std::size_t(count), 1), shortcut = uniform(std::size_t(count), 2);
  std::fill(shortcut.begin(), shortcut.begin() + 100, 0.0f);
  std::copy(branch.begin(), branch.begin() + 50, shortcut.begin() + 50);
  for (int i = 50; i < 100; ++i) shortcut[std::size_t(i)] = -branch[std::size_t(i)];  // sums exactly 0: the kink
  std::vector<float> fast(static_cast<std::size_t>(count)), oracle(static_cast<std::size_t>(count));
  cpu_fast::residual_add_leaky_forward<float>(count, branch.data(), shortcut.data(), fast.data(), 0.01);
  cpu::residual_add_leaky_forward<float>(count, branch.data(), shortcut.data(), oracle.data(), 0.01);
  CHECK(same_bits(fast, oracle));
  std::vector<float> fast_grad(static_cast<std::size_t>(count)), oracle_grad(static_cast<std::size_t>(count));
  cpu_fast::residual_add_leaky_backward<float>(count, oracle.data(), branch.data(), fast_grad.data(), 0.01);
  cpu::residual_add_leaky_backward<float>(count, oracle.data(), branch.data(), oracle_grad.data(), 0.01);
  CHECK(same_bits(fast_grad, oracle_grad));
}

TEST_CASE("cpu fast cross-entropy gradients equal the oracle bit for bit, the loss within its reassociation") {
  constexpr std::int64_t kClasses = 13;
  const std::int64_t pixels = 5 * cpu_fast::kElementGrain / kClasses + 7;  // several chunks and a partial one
  const std::vector<float> logits = uniform(std::size_t(pixels * kClasses), 11, -4, 4);
  std::vector<std::uint8_t> labels(static_cast<std::size_t>(pixels));
  for (std::int64_t p = 0; p < pixels; ++p) labels[std::size_t(p)] = std::uint8_t(p % 17 == 0 ? 255 : p % kClasses);
  std::vector<float> fast(logits.size(), 7.0f), oracle(logits.size(), 7.0f);  // ignored rows must become 0
  const double fast_loss = cpu_fast::softmax_cross_entropy<float>(pixels, kClasses, logits.data(), labels.data(), 255,
                                                                  0.4, fast.data());
  const double oracle_loss =
      cpu::softmax_cross_entropy<float>(pixels, kClasses, logits.data(), labels.data(), 255, 0.4, oracle.data());
  CHECK(same_bits(fast, oracle));
  CHECK(std::abs(fast_loss - oracle_loss) <= double(pixels) * 0x1p-53 * oracle_loss);
  std::vector<std::uint8_t> ignored(labels.size(), 255);
  CHECK(cpu_fast::softmax_cross_entropy<float>(pixels, kClasses, logits.data(), ignored.data(), 255, 1.0,
                                               fast.data()) == 0.0);
  CHECK(std::all_of(fast.begin(), fast.end(), [](float g) { return g == 0.0f; }));
}

TEST_CASE("cpu fast conv2d forward and gradients are within the float32 summation bound of the oracle") {
  struct Case {
    const char* name;
    Conv2dGeometry g;
  };
  // The network's kinds: 3x3 dilated, pointwise, strided pointwise (columns), the 7x7/2 stem; odd
  // batches and more threads than images split images into uneven pixel ranges.
  const std::vector<Case> cases = {{"3x3 dilation 2", conv_geometry(2, 9, 6, 5, 3, 1, 2, 2)},
                                   {"1x1", conv_geometry(3, 7, 8, 4, 1, 1, 0, 1)},
                                   {"1x1 stride 2", conv_geometry(2, 9, 5, 7, 1, 2, 0, 1)},
                                   {"7x7 stride 2", conv_geometry(1, 15, 3, 4, 7, 2, 3, 1)}};
  for (int thread_count : {1, 2, 3}) {
    Threads threads(thread_count);
    for (const Case& c : cases) {
      CAPTURE(c.name);
      CAPTURE(thread_count);
      const Conv2dGeometry& g = c.g;
      const std::int64_t width = g.kernel_height * g.kernel_width * g.in_channels;
      const std::size_t xs = std::size_t(g.batch * g.in_height * g.in_width * g.in_channels);
      const std::size_t ys = std::size_t(g.batch * g.out_height * g.out_width * g.out_channels);
      const std::size_t ws = std::size_t(g.out_channels * width);
      const std::vector<float> x = uniform(xs, 3), w = uniform(ws, 4), dy = uniform(ys, 5), bias = uniform(ws, 6);
      const std::vector<float> ax = absolute(x), aw = absolute(w), ady = absolute(dy);

      std::vector<float> fast(ys), oracle(ys), bound(ys);
      cpu_fast::conv2d_forward<float>(g, x.data(), w.data(), bias.data(), fast.data());
      cpu::conv2d_forward<float>(g, x.data(), w.data(), bias.data(), oracle.data());
      cpu::conv2d_forward<float>(g, ax.data(), aw.data(), absolute(bias).data(), bound.data());
      check_within_summation_bound(fast, oracle, bound, width + 1);

      std::vector<float> fast_dx(xs), oracle_dx(xs), bound_dx(xs);
      cpu_fast::conv2d_backward_input<float>(g, dy.data(), w.data(), fast_dx.data());
      cpu::conv2d_backward_input<float>(g, dy.data(), w.data(), oracle_dx.data());
      cpu::conv2d_backward_input<float>(g, ady.data(), aw.data(), bound_dx.data());
      // The scatter adds up to kh*kw column values per input pixel, each a sum of Cout products.
      check_within_summation_bound(fast_dx, oracle_dx, bound_dx, g.out_channels * g.kernel_height * g.kernel_width);

      // Accumulation (+=) into a non-zero gradient, as the layers do.
      std::vector<float> fast_dw = w, oracle_dw = w, bound_dw = aw;
      std::vector<float> fast_db(static_cast<std::size_t>(g.out_channels), 0.5f), oracle_db = fast_db, bound_db = fast_db;
      cpu_fast::conv2d_backward_weight<float>(g, dy.data(), x.data(), fast_dw.data(), fast_db.data());
      cpu::conv2d_backward_weight<float>(g, dy.data(), x.data(), oracle_dw.data(), oracle_db.data());
      cpu::conv2d_backward_weight<float>(g, ady.data(), ax.data(), bound_dw.data(), bound_db.data());
      const std::int64_t terms = g.batch * g.out_height * g.out_width + 1;
      check_within_summation_bound(fast_dw, oracle_dw, bound_dw, terms);
      check_within_summation_bound(fast_db, oracle_db, bound_db, terms);

      // The same call twice gives the same bits: the partials are summed in task order.
      std::vector<float> again = w, again_db(static_cast<std::size_t>(g.out_channels), 0.5f);
      cpu_fast::conv2d_backward_weight<float>(g, dy.data(), x.data(), again.data(), again_db.data());
      CHECK(same_bits(again, fast_dw));
    }
  }
}

TEST_CASE("cpu fast iabn is within 1e-5 of the oracle, and its sums do not depend on the thread count") {
  const cpu::IabnGeometry shapes[] = {{4000, 5, 0.01, 1e-5},  // 2 chunks of rows of 5 channels
                                      {600, 64, 0.01, 1e-5},  // 3 chunks of 256 rows
                                      {777, 3, 1.0, 1e-5}};   // the identity (slope 1)
  for (const cpu::IabnGeometry& g : shapes) {
    CAPTURE(g.channels);
    const std::size_t n = std::size_t(g.count * g.channels), c = std::size_t(g.channels);
    const std::vector<float> x = uniform(n, 7, -1.5f, 2.5f), dz = uniform(n, 8);
    std::vector<float> w = uniform(c, 9, 0.4f, 1.3f), b = uniform(c, 10, -0.3f, 0.3f);
    w[0] = -w[0];  // a negative weight: |w| in gamma, sign(w) in dw
    std::vector<std::vector<float>> first;
    for (int thread_count : {1, 3}) {
      Threads threads(thread_count);
      std::vector<float> fast_mean(c), fast_var(c), oracle_mean(c), oracle_var(c);
      cpu_fast::iabn_batch_statistics<float>(g, x.data(), fast_mean.data(), fast_var.data());
      cpu::iabn_batch_statistics<float>(g, x.data(), oracle_mean.data(), oracle_var.data());
      check_scaled(fast_mean, oracle_mean, 1e-5);
      check_scaled(fast_var, oracle_var, 1e-5);

      std::vector<float> fast_z = x, oracle_z = x;
      cpu_fast::iabn_normalize_inplace<float>(g, fast_z.data(), w.data(), b.data(), oracle_mean.data(),
                                              oracle_var.data());
      cpu::iabn_normalize_inplace<float>(g, oracle_z.data(), w.data(), b.data(), oracle_mean.data(),
                                         oracle_var.data());
      check_scaled(fast_z, oracle_z, 1e-5);

      std::vector<float> fast_sum_dy(c), fast_sum_xhat(c), oracle_sum_dy(c), oracle_sum_xhat(c);
      cpu_fast::iabn_backward_reduce<float>(g, oracle_z.data(), dz.data(), w.data(), b.data(), fast_sum_dy.data(),
                                            fast_sum_xhat.data());
      cpu::iabn_backward_reduce<float>(g, oracle_z.data(), dz.data(), w.data(), b.data(), oracle_sum_dy.data(),
                                       oracle_sum_xhat.data());
      // Sums of up to 4000 O(1) terms: scaled by their count, the same few roundings.
      std::vector<float> scaled_fast = fast_sum_xhat, scaled_oracle = oracle_sum_xhat;
      for (std::size_t i = 0; i < c; ++i) {
        scaled_fast[i] /= float(g.count);
        scaled_oracle[i] /= float(g.count);
      }
      check_scaled(scaled_fast, scaled_oracle, 1e-5);
      check_scaled(fast_sum_dy, oracle_sum_dy, 1e-5);

      std::vector<float> fast_dx(n), oracle_dx(n), fast_eval(n), oracle_eval(n);
      cpu_fast::iabn_backward_input_train<float>(g, oracle_z.data(), dz.data(), w.data(), b.data(), oracle_var.data(),
                                                 oracle_sum_dy.data(), oracle_sum_xhat.data(), g.count, fast_dx.data());
      cpu::iabn_backward_input_train<float>(g, oracle_z.data(), dz.data(), w.data(), b.data(), oracle_var.data(),
                                            oracle_sum_dy.data(), oracle_sum_xhat.data(), g.count, oracle_dx.data());
      check_scaled(fast_dx, oracle_dx, 1e-5);
      cpu_fast::iabn_backward_input_eval<float>(g, oracle_z.data(), dz.data(), w.data(), oracle_var.data(),
                                                fast_eval.data());
      cpu::iabn_backward_input_eval<float>(g, oracle_z.data(), dz.data(), w.data(), oracle_var.data(),
                                           oracle_eval.data());
      check_scaled(fast_eval, oracle_eval, 1e-5);

      const std::vector<std::vector<float>> results = {fast_mean, fast_var, fast_z, fast_sum_dy, fast_sum_xhat, fast_dx};
      if (first.empty())
        first = results;
      else
        for (std::size_t i = 0; i < results.size(); ++i) CHECK(same_bits(results[i], first[i]));
    }
  }
}
