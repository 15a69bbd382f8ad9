#include "kernels/cpu/sgd.h"

namespace pans::cpu {

template <class T>
void sgd_nesterov_step(std::int64_t size, T* param, const T* grad, T* momentum_buffer, double lr, double momentum,
                       double weight_decay) {
  // PyTorch rounds each scalar to the tensor's type before using it.
  const T step = T(lr), beta = T(momentum), decay = T(weight_decay);
  for (std::int64_t i = 0; i < size; ++i) {
    T d = grad[i];
    if (weight_decay != 0.0) d = d + decay * param[i];
    momentum_buffer[i] = beta * momentum_buffer[i] + d;
    d = d + beta * momentum_buffer[i];
    param[i] = param[i] - step * d;
  }
}

template void sgd_nesterov_step<float>(std::int64_t, float*, const float*, float*, double, double, double);
template void sgd_nesterov_step<double>(std::int64_t, double*, const double*, double*, double, double, double);

}  // namespace pans::cpu
