// The non-finite check on the GPU. Exact: a comparison has no rounding, and the flag is an OR, so
// the result is the CPU's whatever the order of the threads.
#include "kernels/cuda/grid_stride.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/nonfinite.h"

namespace pans::cuda {
namespace {

constexpr unsigned int kThreads = 256;

// x - x is 0 for every finite x and NaN for NaN and both infinities; spelled with arithmetic so
// that nvcc and the host compiler of the emulator read it alike (no isfinite in both namespaces).
__device__ __forceinline__ bool is_finite(float x) { return x - x == 0.0f; }

// *flag = 1 when any value is not finite.
// Mapping: 1-D grid-stride loop, one float per thread per iteration; a thread that saw one stores
// the flag (plain stores racing to write the same 1 need no atomic). Shared memory: none. Bound:
// bandwidth, 4 bytes read per element.
__global__ void flag_nonfinite_grid_stride(std::int64_t count, const float* values, std::int32_t* flag) {
  bool seen = false;
  for (std::int64_t i : grid_stride_range(count)) seen = seen || !is_finite(values[i]);
  if (seen) *flag = 1;
}

}  // namespace

void flag_nonfinite(std::int64_t count, const float* values, std::int32_t* flag) {
  if (count == 0) return;
  launch("flag_nonfinite_grid_stride", flag_nonfinite_grid_stride, grid_for(count, kThreads), kThreads, 0,
         cudaStreamLegacy, count, values, flag);
}

}  // namespace pans::cuda
