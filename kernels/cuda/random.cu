// Random fills on the GPU. Each thread computes element i from (seed, stream, i) alone, so the
// values equal the CPU's whatever the grid: uniform fills bit for bit, normal fills to the ulps
// by which CUDA's logf/cosf differ from the host's.
//
// Mapping: a 1-D grid-stride loop, one element per thread per iteration. Bound: Philox is ~100
// integer operations per 4 draws; a fill is compute-light and store-bound.
#include "kernels/cuda/grid_stride.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/random.h"
#include "tensor/philox.h"

namespace pans::cuda {
namespace {

constexpr unsigned int kThreads = 256;

template <class T>
__global__ void fill_uniform_grid_stride(T* values, std::int64_t count, std::uint64_t seed, std::uint64_t stream,
                                         double low, double high) {
  for (std::int64_t i : grid_stride_range(count))
    values[i] = T(scale_uniform(philox_uniform(seed, stream, std::uint64_t(i)), low, high));
}

template <class T>
__global__ void fill_normal_grid_stride(T* values, std::int64_t count, std::uint64_t seed, std::uint64_t stream,
                                        double mean, double stddev) {
  for (std::int64_t i : grid_stride_range(count))
    values[i] = T(scale_normal(philox_normal(seed, stream, std::uint64_t(i)), mean, stddev));
}

}  // namespace

template <class T>
void fill_uniform(T* values, std::int64_t count, std::uint64_t seed, std::uint64_t stream, double low, double high) {
  if (count == 0) return;
  launch("fill_uniform_grid_stride", fill_uniform_grid_stride<T>, grid_for(count, kThreads), kThreads, 0,
         cudaStreamLegacy, values, count, seed, stream, low, high);
}

template <class T>
void fill_normal(T* values, std::int64_t count, std::uint64_t seed, std::uint64_t stream, double mean, double stddev) {
  if (count == 0) return;
  launch("fill_normal_grid_stride", fill_normal_grid_stride<T>, grid_for(count, kThreads), kThreads, 0,
         cudaStreamLegacy, values, count, seed, stream, mean, stddev);
}

template void fill_uniform<float>(float*, std::int64_t, std::uint64_t, std::uint64_t, double, double);
template void fill_uniform<double>(double*, std::int64_t, std::uint64_t, std::uint64_t, double, double);
template void fill_normal<float>(float*, std::int64_t, std::uint64_t, std::uint64_t, double, double);
template void fill_normal<double>(double*, std::int64_t, std::uint64_t, std::uint64_t, double, double);

}  // namespace pans::cuda
