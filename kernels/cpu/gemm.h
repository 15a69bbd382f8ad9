// Row-major GEMM on the CPU through OpenBLAS (CBLAS):
//   C = alpha * op(A) * op(B) + beta * C,  op(A) is M x K, op(B) is K x N, C is M x N.
#pragma once

#include <cstdint>

namespace pans::cpu {

enum class Transpose { No, Yes };

template <class T>
void gemm(Transpose transpose_a, Transpose transpose_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha,
          const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc);

}  // namespace pans::cpu
