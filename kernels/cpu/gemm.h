// Row-major GEMM on the CPU through OpenBLAS (CBLAS):
//   C = alpha * op(A) * op(B) + beta * C,  op(A) is M x K, op(B) is K x N, C is M x N.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace pans::cpu {

// Sets the OpenBLAS threads every CPU GEMM (so every CPU convolution) uses: `threads`, or one per
// core without it; returns the count set. OpenBLAS rounds differently with another count, so
// bit-identical CPU runs need the same one. Throws pans::Error naming `flag` for a count below 1.
int set_gemm_threads(std::optional<int> threads, const std::string& flag = "--threads");

enum class Transpose { No, Yes };

template <class T>
void gemm(Transpose transpose_a, Transpose transpose_b, std::int64_t m, std::int64_t n, std::int64_t k, T alpha,
          const T* a, std::int64_t lda, const T* b, std::int64_t ldb, T beta, T* c, std::int64_t ldc);

}  // namespace pans::cpu
