#include "bench/timer.h"

#include <cuda_runtime_api.h>

#include <algorithm>
#include <cmath>
#include <exception>

#include "tensor/cuda_check.h"

namespace pans::bench {

using nlohmann::json;

namespace {

template <class F>
void attempt(Side& side, F body) {
  if (!side.alive()) return;
  try {
    body();
  } catch (const std::exception& error) {
    side.error = error.what();
    side.ms.clear();
  }
}

}  // namespace

Stats stats_of(std::vector<double> ms) {
  Stats s;
  if (ms.empty()) return s;
  std::sort(ms.begin(), ms.end());
  const std::size_t n = ms.size();
  s.samples = int(n);
  s.median = n % 2 == 1 ? ms[n / 2] : 0.5 * (ms[n / 2 - 1] + ms[n / 2]);
  s.min = ms.front();
  s.max = ms.back();
  // Percentiles at the nearest rank of q (n - 1), as numpy's 'nearest' method.
  auto quantile = [&](double q) { return ms[std::size_t(std::lround(q * double(n - 1)))]; };
  s.p10 = quantile(0.1);
  s.p90 = quantile(0.9);
  return s;
}

json stats_json(const Stats& s) {
  return {{"median", s.median}, {"min", s.min}, {"max", s.max}, {"p10", s.p10}, {"p90", s.p90}, {"samples", s.samples}};
}

Timer::Timer(int device, int max_runs) {
  int l2_bytes = 0;
  PANS_CUDA_CHECK(cudaDeviceGetAttribute(&l2_bytes, cudaDevAttrL2CacheSize, device));
  // Writing twice the L2 evicts whatever a previous run left there (nvbench flushes the same way).
  flush_bytes_ = std::max<std::int64_t>(2 * std::int64_t(l2_bytes), 64 << 20);
  flush_ = Tensor::empty({flush_bytes_}, DType::U8, Device::cuda(device));
  for (int i = 0; i < 2 * max_runs; ++i) {
    starts_.emplace_back();
    ends_.emplace_back();
  }
}

void Timer::flush() {
  PANS_CUDA_CHECK(
      cudaMemsetAsync(flush_.raw_data(), ++flush_value_ & 0x7f, std::size_t(flush_bytes_), cudaStreamLegacy));
}

void Timer::measure(std::vector<Side*> sides, int warmup, int runs) {
  PANS_CHECK(int(sides.size()) * runs <= int(starts_.size()), "bench: too many timed runs");
  for (int i = 0; i < warmup; ++i)
    for (Side* side : sides) attempt(*side, [&] { side->run(); });
  PANS_CUDA_CHECK(cudaDeviceSynchronize());
  std::vector<std::vector<int>> recorded(sides.size());
  int next_event = 0;
  for (int run = 0; run < runs; ++run) {
    for (std::size_t s = 0; s < sides.size(); ++s) {
      Side& side = *sides[s];
      if (!side.alive()) continue;
      const int e = next_event++;
      attempt(side, [&] {
        flush();
        starts_[std::size_t(e)].record(cudaStreamLegacy);
        side.run();
        ends_[std::size_t(e)].record(cudaStreamLegacy);
        recorded[s].push_back(e);
      });
    }
  }
  PANS_CUDA_CHECK(cudaDeviceSynchronize());
  for (std::size_t s = 0; s < sides.size(); ++s) {
    if (!sides[s]->alive()) continue;
    for (int e : recorded[s])
      sides[s]->ms.push_back(double(ends_[std::size_t(e)].milliseconds_since(starts_[std::size_t(e)])));
  }
}

}  // namespace pans::bench
