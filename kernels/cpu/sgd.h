// CPU Nesterov SGD step: one loop over the elements.
#pragma once

#include <cstdint>

namespace pans::cpu {

template <class T>
void sgd_nesterov_step(std::int64_t size, T* param, const T* grad, T* momentum_buffer, double lr, double momentum,
                       double weight_decay);

}  // namespace pans::cpu
