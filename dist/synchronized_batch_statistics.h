// Synchronized InPlace-ABN over a Communicator (method.md section 3; research/distributed.md 4.2):
//   forward:  all_gather of every rank's (mean, biased var, count) per channel, then Chan's merge
//             (kernels/shared/welford.h) in float64 on the host, in rank order, so every rank gets
//             the same bits;
//   backward: all_reduce (sum) of (sum_dy, sum_xhat_dy).
// Why gather (mean, var, count) rather than all-reduce (sum x, sum x^2, n): the variance from power
// sums cancels catastrophically when |mean| >> std, and the gather allows ranks of unequal batch.
// Counts travel as float64, exact to 2^53 values.
//
// One collective per layer and pass, of 2C + 1 and 2C values: latency-bound, on the critical path.
// Statistics on another device than the communicator's (cuda tensors with the MPI backend) are
// staged through the host.
#pragma once

#include <cstdint>
#include <vector>

#include "dist/communicator.h"
#include "kernels/shared/welford.h"
#include "layers/inplace_abn.h"

namespace pans {

class SynchronizedBatchStatistics final : public BatchStatisticsReducer {
 public:
  explicit SynchronizedBatchStatistics(Communicator& communicator) : communicator_(communicator) {}

  std::int64_t merge_statistics(Tensor& mean, Tensor& var, std::int64_t count) override;
  void sum_over_ranks(Tensor& sums) override;

 private:
  Communicator& communicator_;
};

// The per-channel moments of the union of the ranks' values: `gathered` holds one row per rank of
// [mean_0..mean_{C-1}, var_0..var_{C-1}, count] (biased var), merged in rank order.
std::vector<WelfordState<double>> merge_rank_moments(const std::vector<double>& gathered, std::int64_t channels,
                                                     int world_size);

}  // namespace pans
