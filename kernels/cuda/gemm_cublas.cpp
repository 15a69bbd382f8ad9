#include "kernels/cuda/gemm_cublas.h"

#include <climits>

#include "kernels/cuda/cudnn.h"

namespace pans::cuda {

const char* gemm_math_name(GemmMath math) {
  switch (math) {
    case GemmMath::Tf32:
      return "tf32";
    case GemmMath::Fp32:
      return "fp32";
    case GemmMath::Bf16:
      return "bf16";
  }
  return "?";
}

void gemm_cublas(GemmMath math, std::int64_t m, std::int64_t n, std::int64_t k, const void* a, const void* b, void* c) {
  PANS_CHECK(m > 0 && n > 0 && k > 0 && m <= INT_MAX && n <= INT_MAX && k <= INT_MAX, "gemm_cublas: m ", m, ", n ", n,
             ", k ", k, " must be positive ints");
  const cudaDataType_t type = math == GemmMath::Bf16 ? CUDA_R_16BF : CUDA_R_32F;
  const cublasComputeType_t compute = math == GemmMath::Tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  const float one = 1.0f, zero = 0.0f;
  // Row-major C = A B is column-major C^T = B^T A^T: swap the operands, keep every leading dim.
  PANS_CUBLAS_CHECK(cublasGemmEx(cublas_handle(), CUBLAS_OP_N, CUBLAS_OP_N, int(n), int(m), int(k), &one, b, type,
                                 int(n), a, type, int(k), &zero, c, type, int(n), compute, CUBLAS_GEMM_DEFAULT));
}

}  // namespace pans::cuda
