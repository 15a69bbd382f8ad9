// CUDA launcher behind kernels/nonfinite.h (declared in every build, defined only with CUDA).
#pragma once

#include <cstdint>

namespace pans::cuda {

// *flag (device int32) |= 1 when any of the `count` device floats is NaN or +-infinity; else
// untouched.
void flag_nonfinite(std::int64_t count, const float* values, std::int32_t* flag);

}  // namespace pans::cuda
