// PyTorch's adaptive-pooling bins (AdaptivePooling.h START_IND / END_IND), shared by the CPU oracle
// and the CUDA kernels: output cell o of out_size averages the input range
// [floor(o*in/out), ceil((o+1)*in/out)). Neighbouring bins overlap when in is not a multiple of out.
#pragma once

#include <cstdint>

#include "tensor/host_device.h"

namespace pans {

// The input range [start, end) that output cell `o` of `out_size` averages, on one axis.
struct PoolBin {
  std::int64_t start, end;
};
PANS_HOST_DEVICE inline PoolBin adaptive_pool_bin(std::int64_t o, std::int64_t in_size, std::int64_t out_size) {
  return {o * in_size / out_size, ((o + 1) * in_size + out_size - 1) / out_size};
}

// The output cells [start, end) whose bins cover input index i, on one axis: the inverse of
// adaptive_pool_bin, for gradients gathered per input element. Solving floor(o*in/out) <= i and
// ceil((o+1)*in/out) > i for o gives floor(i*out/in) <= o <= floor(((i+1)*out - 1)/in); the range
// is never empty.
PANS_HOST_DEVICE inline PoolBin adaptive_pool_cells_covering(std::int64_t i, std::int64_t in_size,
                                                             std::int64_t out_size) {
  return {i * out_size / in_size, ((i + 1) * out_size - 1) / in_size + 1};
}

}  // namespace pans
