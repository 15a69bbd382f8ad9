// CUDA launchers behind kernels/dropout.h (declared in every build, defined only with CUDA).
// Pointers are device arrays; activations are {batch, pixels, channels} of the storage type T =
// float or pans::bf16, the mask {batch, channels} is float32 in both cases.
#pragma once

#include <cstdint>

namespace pans::cuda {

// mask[i] = 0 if double(philox_uniform(seed, stream, i)) < p, else float(1 / (1 - p)).
void dropout2d_mask(std::int64_t count, double p, std::uint64_t seed, std::uint64_t stream, float* mask);

// The integer type of the apply kernel's index arithmetic (a division and a remainder per element):
// 32-bit arithmetic is several times cheaper on the GPU than 64-bit. Bits32 takes up to 2^31 - 1
// elements, which leaves the grid-stride index (below count + the grid's threads) room below 2^32.
enum class Dropout2dIndex { Bits32, Bits64 };
inline Dropout2dIndex narrowest_dropout2d_index(std::int64_t count) {
  return count <= std::int64_t(INT32_MAX) ? Dropout2dIndex::Bits32 : Dropout2dIndex::Bits64;
}

// out = in * mask[n, c] per element, in float, rounded once to T; out may be in. `index` must hold
// batch*pixels*channels.
template <class T>
void dropout2d_apply(std::int64_t batch, std::int64_t pixels, std::int64_t channels, const T* in, const float* mask,
                     T* out, Dropout2dIndex index);

}  // namespace pans::cuda
