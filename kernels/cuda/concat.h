// CUDA launchers behind kernels/concat.h (declared in every build, defined only with CUDA), for the
// storage types T = float and pans::bf16 (a bfloat16 copy moves the 16-bit patterns unchanged).
// Pointers are device pointers; `pixels` = N*H*W, part i has channels[i] channels and the whole
// their sum, all NHWC and contiguous. Any number of parts (launched eight at a time).
#pragma once

#include <cstdint>
#include <vector>

namespace pans::cuda {

template <class T>
void concat_channels(std::int64_t pixels, const std::vector<std::int64_t>& channels, const std::vector<const T*>& parts,
                     T* whole);
template <class T>
void split_channels(std::int64_t pixels, const std::vector<std::int64_t>& channels, const T* whole,
                    const std::vector<T*>& parts);

}  // namespace pans::cuda
