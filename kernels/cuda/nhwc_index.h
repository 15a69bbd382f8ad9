// The (n, y, x, c) coordinates of a flat index into a contiguous {N,H,W,C} tensor, for kernels
// that map one thread to one element with c fastest (so a warp reads and writes consecutive
// channels, coalesced).
#pragma once

#include <cstdint>

namespace pans::cuda {

struct NhwcIndex {
  std::int64_t n, y, x, c;
};

__device__ __forceinline__ NhwcIndex unflatten_nhwc(std::int64_t i, std::int64_t height, std::int64_t width,
                                                    std::int64_t channels) {
  NhwcIndex at;
  at.c = i % channels;
  std::int64_t pixel = i / channels;
  at.x = pixel % width;
  pixel /= width;
  at.y = pixel % height;
  at.n = pixel / height;
  return at;
}

}  // namespace pans::cuda
