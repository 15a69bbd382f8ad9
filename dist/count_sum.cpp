#include "dist/count_sum.h"

namespace pans {

void sum_counts_over_ranks(std::vector<std::int64_t>& counts, Communicator& communicator, const char* what) {
  constexpr std::int64_t kExactLimit = std::int64_t(1) << 53;
  std::vector<double> values(counts.size());
  for (std::size_t i = 0; i < counts.size(); ++i) {
    PANS_CHECK(counts[i] >= 0 && counts[i] < kExactLimit, what, ": count ", counts[i], " at ", i,
               " is outside [0, 2^53), which float64 sums exactly");
    values[i] = double(counts[i]);
  }
  Tensor buffer = Tensor::from_vector(values, {std::int64_t(values.size())}).to(communicator.device());
  communicator.all_reduce(buffer, ReduceOp::Sum);
  values = buffer.to(Device::cpu()).to_vector<double>();
  for (std::size_t i = 0; i < counts.size(); ++i) {
    PANS_CHECK(values[i] < double(kExactLimit), what, ": the sum over the ranks at ", i, " reached 2^53 (", values[i],
               "), beyond what float64 sums exactly");
    counts[i] = std::int64_t(values[i]);
  }
}

}  // namespace pans
