// cuBLAS GEMM: the benchmark's compute-peak calibration (a large GEMM measured in the same run as
// the kernels, docs/benchmarks.md#protocol) and a baseline for GEMM-shaped ops. Plain declarations;
// defined in native CUDA builds with cuDNN and cuBLAS (kernels/cuda/gemm_cublas.cpp), elsewhere by
// stubs that throw (kernels/cuda/cudnn_disabled.cpp).
#pragma once

#include <cstdint>

namespace pans::cuda {

// What the tensor cores (or not) compute with:
//   Tf32  float32 A, B, C; CUBLAS_COMPUTE_32F_FAST_TF32 (TF32 inputs, fp32 accumulation);
//   Fp32  float32 A, B, C; CUBLAS_COMPUTE_32F (no tensor cores);
//   Bf16  bfloat16 A, B, C; CUBLAS_COMPUTE_32F (bf16 inputs, fp32 accumulation, bf16 output).
enum class GemmMath { Tf32, Fp32, Bf16 };

const char* gemm_math_name(GemmMath math);  // "tf32", "fp32", "bf16"

// C {m,n} (=) = A {m,k} B {k,n}, all row-major and dense, device pointers on the current device,
// enqueued on the legacy default stream with cublasGemmEx (CUBLAS_GEMM_DEFAULT).
void gemm_cublas(GemmMath math, std::int64_t m, std::int64_t n, std::int64_t k, const void* a, const void* b, void* c);

}  // namespace pans::cuda
