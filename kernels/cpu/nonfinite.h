// CPU check for NaN and infinities: the oracle of the CUDA kernel.
#pragma once

#include <cstdint>

namespace pans::cpu {

template <class T>
bool has_nonfinite(std::int64_t count, const T* values);

}  // namespace pans::cpu
