// CUDA launchers behind kernels/sgd.h (declared in every build, defined only with CUDA).
// Pointers are float32 device arrays; param and momentum_buffer are updated in place.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace pans::cuda {

void sgd_nesterov_step(std::int64_t count, float* param, const float* grad, float* momentum_buffer, double lr,
                       double momentum, double weight_decay);

// One parameter tensor of a fused step.
struct SgdTensor {
  float* param;
  const float* grad;
  float* momentum_buffer;
  std::int64_t count;
};

// Bytes of device memory the fused step needs for its table of chunks (0 when all are empty).
std::size_t sgd_nesterov_step_all_table_bytes(const std::vector<SgdTensor>& tensors);

// The step of sgd_nesterov_step on every tensor, in one kernel launch on the current device.
// `table` is device scratch of sgd_nesterov_step_all_table_bytes(tensors) bytes, 16-byte aligned,
// that stays allocated until the launch has run (a stream-ordered free after the call does).
void sgd_nesterov_step_all(const std::vector<SgdTensor>& tensors, void* table, double lr, double momentum,
                           double weight_decay);

}  // namespace pans::cuda
