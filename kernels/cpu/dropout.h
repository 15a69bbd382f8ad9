// CPU Dropout2d: the oracle of the CUDA kernels. Activations are `pixels` = H*W rows of `channels`
// per image; the mask is {batch, channels}.
#pragma once

#include <cstdint>

namespace pans::cpu {

struct Dropout2dGeometry {
  std::int64_t batch, pixels, channels;
};

template <class T>
void dropout2d_mask(std::int64_t batch, std::int64_t channels, double p, std::uint64_t seed, std::uint64_t stream,
                    T* mask);
// out = in * mask per channel; each element is written after it is read, so out may alias in.
template <class T>
void dropout2d_apply(const Dropout2dGeometry& g, const T* in, const T* mask, T* out);

}  // namespace pans::cpu
