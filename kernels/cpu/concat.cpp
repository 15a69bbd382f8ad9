#include "kernels/cpu/concat.h"

#include <algorithm>
#include <numeric>

namespace pans::cpu {

template <class T>
void concat_channels(std::int64_t pixels, const std::vector<std::int64_t>& channels, const std::vector<const T*>& parts,
                     T* whole) {
  const std::int64_t total = std::accumulate(channels.begin(), channels.end(), std::int64_t(0));
  for (std::int64_t p = 0; p < pixels; ++p) {
    T* out = whole + p * total;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const T* in = parts[i] + p * channels[i];
      out = std::copy(in, in + channels[i], out);
    }
  }
}

template <class T>
void split_channels(std::int64_t pixels, const std::vector<std::int64_t>& channels, const T* whole,
                    const std::vector<T*>& parts) {
  const std::int64_t total = std::accumulate(channels.begin(), channels.end(), std::int64_t(0));
  for (std::int64_t p = 0; p < pixels; ++p) {
    const T* in = whole + p * total;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      std::copy(in, in + channels[i], parts[i] + p * channels[i]);
      in += channels[i];
    }
  }
}

#define PANS_INSTANTIATE_CONCAT(T)                                                                                    \
  template void concat_channels<T>(std::int64_t, const std::vector<std::int64_t>&, const std::vector<const T*>&, T*); \
  template void split_channels<T>(std::int64_t, const std::vector<std::int64_t>&, const T*, const std::vector<T*>&);
PANS_INSTANTIATE_CONCAT(float)
PANS_INSTANTIATE_CONCAT(double)
#undef PANS_INSTANTIATE_CONCAT

}  // namespace pans::cpu
