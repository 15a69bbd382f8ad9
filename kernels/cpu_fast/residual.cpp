#include "kernels/cpu_fast/residual.h"

#include "kernels/cpu_fast/parallel.h"

namespace pans::cpu_fast {

// The oracle's arithmetic: the exact double sum, scaled in double when negative, rounded once.
template <>
void residual_add_leaky_forward<float>(std::int64_t count, const float* branch, const float* shortcut, float* out,
                                       double slope) {
  parallel_chunks(count, kElementGrain, [&](std::int64_t, std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) {
      const double y = double(branch[i]) + double(shortcut[i]);
      out[i] = float(y >= 0.0 ? y : slope * y);
    }
  });
}

template <>
void residual_add_leaky_backward<float>(std::int64_t count, const float* out, const float* dout, float* dinput,
                                        double slope) {
  parallel_chunks(count, kElementGrain, [&](std::int64_t, std::int64_t begin, std::int64_t end) {
    for (std::int64_t i = begin; i < end; ++i) dinput[i] = out[i] >= 0.0f ? dout[i] : float(slope * double(dout[i]));
  });
}

}  // namespace pans::cpu_fast
