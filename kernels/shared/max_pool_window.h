// Max-pool window geometry (kernel k, stride s, padding p, PyTorch's floor mode), shared by the CPU
// oracle and the CUDA kernels.
#pragma once

#include <cstdint>

#include "kernels/shared/adaptive_pool_bin.h"
#include "tensor/host_device.h"

namespace pans {

// The part [start, end) of output `o`'s window that lies inside an axis of in_size: padding never
// wins a max, so it is skipped rather than read as -inf.
PANS_HOST_DEVICE inline PoolBin max_pool_window(std::int64_t o, std::int64_t in_size, int kernel_size, int stride,
                                                int padding) {
  const std::int64_t start = o * stride - padding;
  const std::int64_t end = start + kernel_size;
  return {start < 0 ? 0 : start, end > in_size ? in_size : end};
}

// The outputs [start, end) of out_size whose windows contain input index i, for gradients gathered
// per input element: o*s - p <= i < o*s - p + k, i.e. ceil((i+p-k+1)/s) <= o <= floor((i+p)/s).
// Empty when the stride exceeds the kernel and i falls between windows.
PANS_HOST_DEVICE inline PoolBin max_pool_windows_covering(std::int64_t i, std::int64_t out_size, int kernel_size,
                                                          int stride, int padding) {
  const std::int64_t lowest = i + padding - kernel_size + 1;
  const std::int64_t start = lowest <= 0 ? 0 : (lowest + stride - 1) / stride;
  const std::int64_t end = (i + padding) / stride + 1;
  return {start, end > out_size ? out_size : end};
}

}  // namespace pans
