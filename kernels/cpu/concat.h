// CPU channel concatenation and split: plain copies, the oracle for the CUDA kernels.
#pragma once

#include <cstdint>
#include <vector>

namespace pans::cpu {

// `pixels` = N*H*W; part i has channels[i] channels, the whole their sum.
template <class T>
void concat_channels(std::int64_t pixels, const std::vector<std::int64_t>& channels, const std::vector<const T*>& parts,
                     T* whole);
template <class T>
void split_channels(std::int64_t pixels, const std::vector<std::int64_t>& channels, const T* whole,
                    const std::vector<T*>& parts);

}  // namespace pans::cpu
