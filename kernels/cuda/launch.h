// The one way pans launches a kernel, and the kernel-side helpers that differ between a GPU and
// the SIMT emulator. Kernel files call launch() instead of writing <<<...>>>:
//   - under nvcc it is the real launch, then cudaGetLastError reported with the kernel's name; with
//     the sync check configured (kernels/configuration.h; PANS_SYNC_CHECK=1) it also synchronises,
//     so an asynchronous fault is pinned on the kernel that caused it;
//   - in the emulator build (PANS_SIMT_EMU) it runs the same kernel source on the CPU
//     (kernels/emu/scheduler.h), each emulated thread with its own copy of the arguments.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <tuple>
#include <type_traits>
#include <utility>

#include "kernels/configuration.h"
#include "tensor/cuda_check.h"

#ifdef PANS_SIMT_EMU
#include "kernels/emu/scheduler.h"
#endif

namespace pans::cuda {

// Lets `kernel` use up to `bytes` of dynamic shared memory (above 48 KiB needs this opt-in). The
// attribute belongs to the kernel on the current device and stays set, so it is asked for once per
// kernel and device (and again only for more bytes): launchers call this before every launch, and
// cudaFuncSetAttribute is a driver call a launch should not repeat.
template <class... Params>
void set_max_dynamic_shared_bytes(void (*kernel)(Params...), std::size_t bytes) {
  static std::mutex mutex;
  static std::map<std::pair<const void*, int>, std::size_t> granted;
  int device = 0;  // the emulator is one device
#ifndef PANS_SIMT_EMU
  PANS_CUDA_CHECK(cudaGetDevice(&device));
#endif
  const std::lock_guard<std::mutex> lock(mutex);
  std::size_t& allowed = granted[{reinterpret_cast<const void*>(kernel), device}];
  if (allowed >= bytes) return;
#ifdef PANS_SIMT_EMU
  emu::set_max_dynamic_shared_bytes(reinterpret_cast<const void*>(kernel), bytes);
#else
  PANS_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(bytes)));
#endif
  allowed = bytes;
}

template <class... Params, class... Args>
void launch(const char* kernel_name, void (*kernel)(Params...), dim3 grid, dim3 block, std::size_t shared_bytes,
            cudaStream_t stream, Args&&... args) {
#ifdef PANS_SIMT_EMU
  (void)stream;  // emulated launches complete before launch() returns
  const std::tuple<std::decay_t<Params>...> parameters(std::forward<Args>(args)...);
  emu::run_grid(
      {kernel_name, grid, block, shared_bytes, emu::max_dynamic_shared_bytes(reinterpret_cast<const void*>(kernel))},
      [&] { std::apply(kernel, parameters); });
#else
  // clang-format off
  kernel<<<grid, block, shared_bytes, stream>>>(std::forward<Args>(args)...);
  // clang-format on
  const cudaError_t status = cudaGetLastError();
  if (status != cudaSuccess)
    PANS_FAIL("launch of ", kernel_name, " (grid ", grid.x, "x", grid.y, "x", grid.z, ", block ", block.x, "x", block.y,
              "x", block.z, ", ", shared_bytes, " B shared) failed: ", cudaGetErrorString(status));
  if (kernel_configuration().sync_check) {
    const cudaError_t fault = cudaStreamSynchronize(stream);
    if (fault != cudaSuccess) PANS_FAIL("kernel ", kernel_name, " failed: ", cudaGetErrorString(fault));
  }
#endif
}

// Blocks for a grid-stride loop over `count` elements: enough to fill the device, never zero. The
// emulator runs blocks one by one, so there a few blocks stride over everything (any grid is
// correct for a grid-stride loop, and a parity test then also covers the striding).
inline unsigned int grid_for(std::int64_t count, unsigned int threads_per_block) {
#ifdef PANS_SIMT_EMU
  constexpr std::int64_t kMaxBlocks = 4;
#else
  constexpr std::int64_t kMaxBlocks = 65535 * 8;
#endif
  const std::int64_t blocks = (count + threads_per_block - 1) / threads_per_block;
  return unsigned(blocks < 1 ? 1 : (blocks > kMaxBlocks ? kMaxBlocks : blocks));
}

}  // namespace pans::cuda

// Dynamic shared memory of the running block, as T*. The one accessor kernels use instead of an
// `extern __shared__` array (which a host compiler cannot emulate).
namespace pans::cuda {
template <class T>
__device__ __forceinline__ T* dynamic_shared() {
#ifdef PANS_SIMT_EMU
  return static_cast<T*>(emu::dynamic_shared_memory());
#else
  extern __shared__ __align__(16) unsigned char pans_dynamic_shared[];
  return reinterpret_cast<T*>(pans_dynamic_shared);
#endif
}
}  // namespace pans::cuda
