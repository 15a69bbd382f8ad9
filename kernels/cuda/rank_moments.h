// CUDA launchers behind kernels/rank_moments.h (declared in every build, defined only with CUDA).
// Pointers are device arrays: mean and var of `channels` floats, rows of 2 * channels + 1 doubles.
#pragma once

#include <cstdint>

namespace pans::cuda {

void pack_rank_moments(std::int64_t channels, const float* mean, const float* var, double count, double* row);
void merge_rank_moments(std::int64_t channels, int ranks, const double* gathered, float* mean, float* var,
                        double* total_count);

}  // namespace pans::cuda
