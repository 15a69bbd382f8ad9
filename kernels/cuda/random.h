// CUDA launchers behind kernels/random.h (declared in every build, defined only with CUDA).
#pragma once

#include <cstdint>

namespace pans::cuda {

template <class T>
void fill_uniform(T* values, std::int64_t count, std::uint64_t seed, std::uint64_t stream, double low, double high);
template <class T>
void fill_normal(T* values, std::int64_t count, std::uint64_t seed, std::uint64_t stream, double mean, double stddev);

}  // namespace pans::cuda
