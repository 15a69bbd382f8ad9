// The moment rows of synchronized InPlace-ABN on the GPU: packing before the all-gather, Chan's
// merge after it. A network has ~100 such layers per step with C <= 2048: these kernels exist to
// keep the statistics on the device (no host round trip between the collective and the
// normalisation), not for throughput; each is a few microseconds of launch latency.
//
// The arithmetic is the CPU oracle's (kernels/shared/rank_moments.h), in float64.
#include "kernels/cuda/launch.h"
#include "kernels/cuda/rank_moments.h"
#include "kernels/shared/rank_moments.h"

namespace pans::cuda {
namespace {

constexpr unsigned int kThreads = 256;

unsigned int blocks_covering(std::int64_t count) { return unsigned((count + kThreads - 1) / kThreads); }

// row[i] = [mean, var, count][i].
// Mapping: one thread per row element, blocks covering the 2C + 1 of them. Shared memory: none.
// Bound: launch latency (at most 4097 elements).
__global__ void pack_rank_moments_kernel(std::int64_t channels, const float* mean, const float* var, double count,
                                         double* row) {
  const std::int64_t i = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x;
  if (i < rank_moments_row_length(channels)) row[i] = rank_moments_row_value(channels, mean, var, count, i);
}

// mean[c], var[c] <- channel c merged over the ranks in rank order; thread 0 also writes the total
// count. Mapping: one thread per channel, blocks covering the channels; each thread reads its
// channel's two values in every rank's row (neighbouring threads read neighbouring doubles).
// Shared memory: none. Bound: launch latency (W x 2C doubles read).
__global__ void merge_rank_moments_kernel(std::int64_t channels, int ranks, const double* gathered, float* mean,
                                          float* var, double* total_count) {
  const std::int64_t c = blockIdx.x * std::int64_t(blockDim.x) + threadIdx.x;
  if (c >= channels) return;
  const WelfordState<double> merged = merge_channel_over_ranks(channels, ranks, gathered, c);
  mean[c] = float(merged.mean);
  var[c] = float(merged.m2 / merged.count);
  if (c == 0) *total_count = total_count_over_ranks(channels, ranks, gathered);
}

}  // namespace

void pack_rank_moments(std::int64_t channels, const float* mean, const float* var, double count, double* row) {
  launch("pack_rank_moments_kernel", pack_rank_moments_kernel, blocks_covering(rank_moments_row_length(channels)),
         kThreads, 0, cudaStreamLegacy, channels, mean, var, count, row);
}

void merge_rank_moments(std::int64_t channels, int ranks, const double* gathered, float* mean, float* var,
                        double* total_count) {
  launch("merge_rank_moments_kernel", merge_rank_moments_kernel, blocks_covering(channels), kThreads, 0,
         cudaStreamLegacy, channels, ranks, gathered, mean, var, total_count);
}

}  // namespace pans::cuda
