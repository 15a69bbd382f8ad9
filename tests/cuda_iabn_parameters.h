// The per-channel tensors of an InPlace-ABN layer with C channels (float32, cpu), shared by the CUDA
// parity tests of the native kernels and of the cuDNN path.
#pragma once

#include <cstdint>

#include "tests/cuda_test_util.h"

namespace pans::test {

struct IabnParameters {
  Tensor w, b, running_mean, running_var;

  explicit IabnParameters(std::int64_t channels) {
    w = uniform_f32({channels}, 11, 0.3, 1.5, kSeed);
    b = uniform_f32({channels}, 12, -0.3, 0.3, kSeed);
    running_mean = uniform_f32({channels}, 13, -0.2, 0.2, kSeed);
    running_var = uniform_f32({channels}, 14, 0.5, 1.5, kSeed);
    // Channel 1 has a negative weight (|w| in gamma_hat, sign(w) in dw); channel 2 has w = 0
    // (gamma_hat = eps, sign(0) = +1). Its bias is positive so that its y ~ b stays >= 0: backward
    // recovers xhat = (y - b)/eps, and for y < 0 the float32 rounding of y = z/slope (~2e-8) would
    // be amplified 1e5 times, an error of the float32 storage of z that the oracle does not share.
    float* weight = w.data<float>();
    weight[1] = -weight[1];
    weight[2] = 0.0f;
    b.data<float>()[2] = 0.3f;
  }

 private:
  static constexpr std::uint64_t kSeed = 4321;
};

}  // namespace pans::test
