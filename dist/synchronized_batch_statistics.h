// Synchronized InPlace-ABN over a Communicator (docs/method.md#synchronized-inplace-abn):
//   forward:  every rank packs its per-channel (mean, biased var, count) into one float64 row, the
//             rows are all-gathered, and every rank merges them in rank order with Chan's formula
//             (kernels/rank_moments.h), so every rank gets the same bits;
//   backward: all_reduce (sum) of (sum_dy, sum_xhat_dy).
// Why gather the moments rather than all-reduce power sums: kernels/rank_moments.h.
//
// Everything stays on the statistics' device when that is the communicator's (NCCL and CUDA
// tensors, MPI and cpu tensors): packing, the collective and the merge are device work, and only
// the total count (8 bytes) is read back by the host, which the layer needs as a number. Statistics
// on another device than the communicator's (cuda tensors with the MPI backend) are staged through
// the host.
//
// One collective per layer and pass, of 2C + 1 and 2C values: latency-bound, on the critical path.
#pragma once

#include <cstdint>

#include "dist/communicator.h"
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

}  // namespace pans
