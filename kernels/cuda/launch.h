// The one way pans launches a kernel: the launch, then the launch error checked and reported with
// the kernel's name (a bad configuration surfaces here, not at some later call). With
// PANS_SYNC_CHECK=1 in the environment it also synchronises, so an asynchronous fault is pinned on
// the kernel that caused it. Kernel files call this instead of writing <<<...>>>.
#pragma once

#include <cuda_runtime.h>

#include <cstdlib>
#include <utility>

#include "tensor/cuda_check.h"

namespace pans::cuda {

inline bool sync_check_enabled() {
  static const bool enabled = [] {
    const char* value = std::getenv("PANS_SYNC_CHECK");
    return value != nullptr && value[0] == '1';
  }();
  return enabled;
}

template <class... Params, class... Args>
void launch(const char* kernel_name, void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes,
            cudaStream_t stream, Args&&... args) {
  kernel<<<grid, block, shared_bytes, stream>>>(std::forward<Args>(args)...);
  const cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess)
    PANS_FAIL("launch of ", kernel_name, " (grid ", grid.x, "x", grid.y, "x", grid.z, ", block ", block.x, "x",
              block.y, "x", block.z, ", ", shared_bytes, " B shared) failed: ", cudaGetErrorString(status));
  if (sync_check_enabled()) {
    const cudaError_t fault = cudaStreamSynchronize(stream);
    if (fault != cudaSuccess) PANS_FAIL("kernel ", kernel_name, " failed: ", cudaGetErrorString(fault));
  }
}

// Blocks for a grid-stride loop over `count` elements: enough to fill the device, never zero.
inline unsigned int grid_for(std::int64_t count, unsigned int threads_per_block) {
  const std::int64_t blocks = (count + threads_per_block - 1) / threads_per_block;
  return unsigned(blocks < 1 ? 1 : (blocks > 65535 * 8 ? 65535 * 8 : blocks));
}

}  // namespace pans::cuda
