#include "kernels/cpu/rank_moments.h"

#include "kernels/shared/rank_moments.h"

namespace pans::cpu {

template <class T>
void pack_rank_moments(std::int64_t channels, const T* mean, const T* var, double count, double* row) {
  for (std::int64_t i = 0; i < rank_moments_row_length(channels); ++i)
    row[i] = rank_moments_row_value(channels, mean, var, count, i);
}

template <class T>
void merge_rank_moments(std::int64_t channels, int ranks, const double* gathered, T* mean, T* var,
                        double* total_count) {
  for (std::int64_t c = 0; c < channels; ++c) {
    const WelfordState<double> merged = merge_channel_over_ranks(channels, ranks, gathered, c);
    mean[c] = T(merged.mean);
    var[c] = T(merged.m2 / merged.count);
  }
  *total_count = total_count_over_ranks(channels, ranks, gathered);
}

#define PANS_INSTANTIATE_RANK_MOMENTS(T)                                                 \
  template void pack_rank_moments<T>(std::int64_t, const T*, const T*, double, double*); \
  template void merge_rank_moments<T>(std::int64_t, int, const double*, T*, T*, double*);
PANS_INSTANTIATE_RANK_MOMENTS(float)
PANS_INSTANTIATE_RANK_MOMENTS(double)
#undef PANS_INSTANTIATE_RANK_MOMENTS

}  // namespace pans::cpu
