// CPU packing and merging of the ranks' moment rows (kernels/rank_moments.h): the oracle of the
// CUDA kernels. T is the statistics' type (float or double); rows are float64.
#pragma once

#include <cstdint>

namespace pans::cpu {

template <class T>
void pack_rank_moments(std::int64_t channels, const T* mean, const T* var, double count, double* row);

// gathered: `ranks` rows of 2 * channels + 1 values.
template <class T>
void merge_rank_moments(std::int64_t channels, int ranks, const double* gathered, T* mean, T* var, double* total_count);

}  // namespace pans::cpu
