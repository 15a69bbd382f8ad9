// CUDA launchers behind kernels/concat.h, float32 only (declared in every build, defined only with
// CUDA). Pointers are device pointers; `pixels` = N*H*W, part i has channels[i] channels and the
// whole their sum, all NHWC and contiguous. Any number of parts (launched eight at a time).
#pragma once

#include <cstdint>
#include <vector>

namespace pans::cuda {

void concat_channels(std::int64_t pixels, const std::vector<std::int64_t>& channels,
                     const std::vector<const float*>& parts, float* whole);
void split_channels(std::int64_t pixels, const std::vector<std::int64_t>& channels, const float* whole,
                    const std::vector<float*>& parts);

}  // namespace pans::cuda
