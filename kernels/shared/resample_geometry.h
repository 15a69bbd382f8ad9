// The geometry of ops that map {N,H,W,C} to {N,OH,OW,C} with the same batch and channels:
// adaptive pooling and bilinear resizing. Shared by the CPU oracle and the CUDA launchers.
#pragma once

#include <cstdint>

namespace pans {

struct ResampleGeometry {
  std::int64_t batch, in_height, in_width, channels;
  std::int64_t out_height, out_width;
};

}  // namespace pans
