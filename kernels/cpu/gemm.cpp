#include "kernels/cpu/gemm.h"

#include <cblas.h>

#include <climits>

#include "tensor/error.h"

namespace pans::cpu {
namespace {

CBLAS_TRANSPOSE to_cblas(Transpose transpose) { return transpose == Transpose::Yes ? CblasTrans : CblasNoTrans; }

int checked_int(std::int64_t value) {
  PANS_CHECK(value >= 0 && value <= INT_MAX, "gemm: dimension ", value, " exceeds the BLAS 32-bit interface");
  return int(value);
}

}  // namespace

template <>
void gemm<float>(Transpose transpose_a, Transpose transpose_b, std::int64_t m, std::int64_t n, std::int64_t k,
                 float alpha, const float* a, std::int64_t lda, const float* b, std::int64_t ldb, float beta, float* c,
                 std::int64_t ldc) {
  cblas_sgemm(CblasRowMajor, to_cblas(transpose_a), to_cblas(transpose_b), checked_int(m), checked_int(n),
              checked_int(k), alpha, a, checked_int(lda), b, checked_int(ldb), beta, c, checked_int(ldc));
}

template <>
void gemm<double>(Transpose transpose_a, Transpose transpose_b, std::int64_t m, std::int64_t n, std::int64_t k,
                  double alpha, const double* a, std::int64_t lda, const double* b, std::int64_t ldb, double beta,
                  double* c, std::int64_t ldc) {
  cblas_dgemm(CblasRowMajor, to_cblas(transpose_a), to_cblas(transpose_b), checked_int(m), checked_int(n),
              checked_int(k), alpha, a, checked_int(lda), b, checked_int(ldb), beta, c, checked_int(ldc));
}

}  // namespace pans::cpu
