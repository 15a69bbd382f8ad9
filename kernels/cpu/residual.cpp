#include "kernels/cpu/residual.h"

#include "kernels/shared/leaky_relu.h"

namespace pans::cpu {

template <class T>
void residual_add_leaky_forward(std::int64_t count, const T* branch, const T* shortcut, T* out, double slope) {
  for (std::int64_t i = 0; i < count; ++i) out[i] = T(leaky_relu(double(branch[i]) + double(shortcut[i]), slope));
}

template <class T>
void residual_add_leaky_backward(std::int64_t count, const T* out, const T* dout, T* dinput, double slope) {
  for (std::int64_t i = 0; i < count; ++i)
    dinput[i] = T(leaky_relu_gradient_from_output(double(out[i]), double(dout[i]), slope));
}

#define PANS_INSTANTIATE_RESIDUAL(T)                                                         \
  template void residual_add_leaky_forward<T>(std::int64_t, const T*, const T*, T*, double); \
  template void residual_add_leaky_backward<T>(std::int64_t, const T*, const T*, T*, double);
PANS_INSTANTIATE_RESIDUAL(float)
PANS_INSTANTIATE_RESIDUAL(double)
#undef PANS_INSTANTIATE_RESIDUAL

}  // namespace pans::cpu
