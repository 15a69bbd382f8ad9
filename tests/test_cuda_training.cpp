// The whole CUDA training path at once: demo_train's network (apps/demo_net.h: conv 3x3 -> InPlace-ABN
// -> conv 1x1 -> cross-entropy, Nesterov SGD through the fused multi-tensor kernel) trained for a few
// steps on the CUDA device (a GPU, or the SIMT emulator in CI) and on the CPU, from the same weights
// and data, must end with the same weights.
//
// Tolerances: the 1x1 classifier conv runs on tensor cores in TF32 (inputs rounded to 10 mantissa
// bits, unit roundoff u = 2^-11 = 4.9e-4), the 3-channel conv and the rest in float32 with another
// summation order. So the losses, computed from TF32 logits, agree to a few u (2e-3 relative
// asserted). The weights agree far better: a step moves a weight by lr * (gradient + momentum), and a
// gradient off by a few u relative moves it wrongly by lr * |g| * few u; over kSteps = 4 steps at
// lr <= 0.05 that stays below u * max(1, |w|) (5e-4 asserted; 1e-5 measured on the emulator). The
// weights must also have moved from their initial values by 20 times that bound, so a path that
// skipped or botched the update could not pass.
#include <doctest/doctest.h>

#include <cstdint>

#include "apps/demo_net.h"
#include "optim/poly_lr.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

namespace {

constexpr int kSteps = 4;
constexpr std::int64_t kBatch = 2, kSize = 8;
constexpr std::uint64_t kSeed = 7;
constexpr double kLossTolerance = 2e-3, kWeightTolerance = 5e-4;

// Trains a fresh DemoNet on `device`; returns the losses of every step.
std::vector<double> train(DemoNet& net) {
  const PolyLearningRate schedule(0.05, kSteps);
  std::vector<double> losses;
  for (int step = 0; step < kSteps; ++step)
    losses.push_back(net.train_step(demo_batch(kSeed, std::uint64_t(step), kBatch, kSize), schedule.at(step)));
  return losses;
}

}  // namespace

TEST_CASE("training: demo_train's network trained on CUDA ends with the CPU's weights") {
  const std::vector<Tensor> initial = [] {
    std::vector<Tensor> copies;
    for (const Tensor& p : DemoNet(kSeed, Device::cpu()).parameters()) copies.push_back(p.clone());
    return copies;
  }();
  DemoNet on_host(kSeed, Device::cpu()), on_gpu(kSeed, gpu());
  const std::vector<double> host_losses = train(on_host), gpu_losses = train(on_gpu);

  for (int step = 0; step < kSteps; ++step) {
    CAPTURE(step);
    CHECK(gpu_losses[std::size_t(step)] == doctest::Approx(host_losses[std::size_t(step)]).epsilon(kLossTolerance));
  }
  const std::vector<Tensor> host = on_host.parameters(), device = on_gpu.parameters();
  for (std::size_t i = 0; i < host.size(); ++i) {
    CAPTURE(i);
    CHECK(device[i].device() == gpu());
    CHECK(max_scaled_error(device[i], host[i]) < kWeightTolerance);
    CHECK(max_scaled_error(host[i], initial[i]) > 20 * kWeightTolerance);
  }
  const std::vector<Tensor> host_stats = on_host.running_statistics(), device_stats = on_gpu.running_statistics();
  for (std::size_t i = 0; i < host_stats.size(); ++i) CHECK(max_scaled_error(device_stats[i], host_stats[i]) < kWeightTolerance);
}
