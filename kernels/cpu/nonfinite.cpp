#include "kernels/cpu/nonfinite.h"

#include <cmath>

namespace pans::cpu {

template <class T>
bool has_nonfinite(std::int64_t count, const T* values) {
  for (std::int64_t i = 0; i < count; ++i)
    if (!std::isfinite(values[i])) return true;
  return false;
}

template bool has_nonfinite<float>(std::int64_t, const float*);
template bool has_nonfinite<double>(std::int64_t, const double*);

}  // namespace pans::cpu
