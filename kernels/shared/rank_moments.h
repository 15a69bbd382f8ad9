// The per-element formulas of kernels/rank_moments.h, shared by the CPU oracle and the CUDA
// kernels so that both do the same float64 operations in the same order (the same bits with the
// host's -ffp-contract=off; nvcc may contract the merge's products into FMAs, a difference of an
// ulp of float64, far below the float32 the statistics are stored in on a GPU).
#pragma once

#include <cstdint>

#include "kernels/shared/welford.h"
#include "tensor/host_device.h"

namespace pans {

PANS_HOST_DEVICE inline std::int64_t rank_moments_row_length(std::int64_t channels) { return 2 * channels + 1; }

// Element i of a rank's row [mean_0..mean_{C-1}, var_0..var_{C-1}, count].
template <class T>
PANS_HOST_DEVICE inline double rank_moments_row_value(std::int64_t channels, const T* mean, const T* var, double count,
                                                      std::int64_t i) {
  if (i < channels) return double(mean[i]);
  if (i < 2 * channels) return double(var[i - channels]);
  return count;
}

// Channel c's moments over the union of the ranks' values, merged in rank order.
PANS_HOST_DEVICE inline WelfordState<double> merge_channel_over_ranks(std::int64_t channels, int ranks,
                                                                      const double* gathered, std::int64_t c) {
  const std::int64_t row = rank_moments_row_length(channels);
  WelfordState<double> merged{0, 0, 0};
  for (int r = 0; r < ranks; ++r) {
    const double* rank_row = gathered + r * row;
    const double count = rank_row[2 * channels];
    merged = welford_merge(merged, WelfordState<double>{count, rank_row[c], rank_row[channels + c] * count});
  }
  return merged;
}

PANS_HOST_DEVICE inline double total_count_over_ranks(std::int64_t channels, int ranks, const double* gathered) {
  const std::int64_t row = rank_moments_row_length(channels);
  double total = 0;
  for (int r = 0; r < ranks; ++r) total += gathered[r * row + 2 * channels];
  return total;
}

}  // namespace pans
