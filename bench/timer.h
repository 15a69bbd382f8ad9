// The timing of a row's sides (gpu_bench.h gives the protocol) and the statistics of their samples.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "kernels/cuda/stream.h"
#include "tensor/tensor.h"

namespace pans::bench {

struct Stats {
  double median = 0, min = 0, max = 0, p10 = 0, p90 = 0;
  int samples = 0;
};

Stats stats_of(std::vector<double> ms);
nlohmann::json stats_json(const Stats& s);

// One timed side of a row.
struct Side {
  std::function<void()> run;
  std::vector<double> ms;
  std::string error;
  bool alive() const { return run && error.empty(); }
};

class Timer {
 public:
  Timer(int device, int max_runs);

  std::int64_t flush_bytes() const { return flush_bytes_; }

  void flush();

  // Warm-up, then `runs` rounds of (flush, time side 0), (flush, time side 1), ... A side that
  // throws is retired with its error; the others go on.
  void measure(std::vector<Side*> sides, int warmup, int runs);

 private:
  Tensor flush_;
  std::int64_t flush_bytes_ = 0;
  int flush_value_ = 0;
  std::vector<cuda::Event> starts_, ends_;
};

}  // namespace pans::bench
