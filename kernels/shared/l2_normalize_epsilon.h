// The floor on |v| of F.normalize, which PAnS uses for both the features and the weights, shared by
// the CPU oracle and the CUDA kernels of the cosine head.
#pragma once

namespace pans {

constexpr double kL2NormalizeEpsilon = 1e-12;

}  // namespace pans
