// The moment rows of synchronized iABN on CUDA (a GPU or the emulator) against the CPU oracle.
//
// Tolerance: packing copies values (float32 widened to float64 exactly): bit for bit everywhere.
// The merge does the oracle's float64 operations in its order (kernels/shared/rank_moments.h): on
// the emulator, compiled like the oracle without FMA contraction, bit for bit; on a GPU nvcc may
// contract products into FMAs, which moves the float64 result by about an ulp of float64, and the
// float32 rounding of the stored statistic then differs only when that moves it across a float32
// rounding boundary: at most one float32 ulp, 2^-23 relative. The total count is a sum of small
// integers, exact on both.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include "kernels/random.h"
#include "kernels/rank_moments.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

namespace {

// Whether every element of the GPU's float32 result is the CPU's, or (on a GPU) within one float32
// ulp of it.
bool matches_oracle(const Tensor& gpu_result, const Tensor& expected) {
  if (kEmulated) return same_bits(gpu_result, expected);
  const std::vector<float> a = on_cpu(gpu_result).to_vector<float>(), b = expected.to_vector<float>();
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!(std::abs(a[i] - b[i]) <= 0x1p-23f * std::abs(b[i]))) return false;
  return a.size() == b.size();
}

}  // namespace

TEST_CASE("cuda pack and merge of rank moments equal the cpu") {
  // 300 channels: more than one block of 256 threads; 3 ranks of unequal counts.
  const std::int64_t channels = 300;
  const std::vector<std::int64_t> counts = {5, 1, 12};
  const std::int64_t row_length = 2 * channels + 1;
  std::vector<double> gathered;
  Tensor gathered_gpu = nan_tensor({row_length * std::int64_t(counts.size())}, DType::F64);
  for (std::size_t r = 0; r < counts.size(); ++r) {
    const Tensor mean = uniform_f32({channels}, 2 * r, -3.0, 3.0, 77);
    const Tensor var = uniform_f32({channels}, 2 * r + 1, 0.0, 2.0, 77);
    Tensor expected_row = Tensor::empty({row_length}, DType::F64);
    pack_rank_moments(mean, var, counts[r], expected_row);
    Tensor row = nan_tensor({row_length}, DType::F64);
    pack_rank_moments(mean.to(gpu()), var.to(gpu()), counts[r], row);
    CHECK(same_bits(row, expected_row));
    gathered_gpu.narrow(0, std::int64_t(r) * row_length, row_length).copy_from(row);
    const std::vector<double> packed = expected_row.to_vector<double>();
    gathered.insert(gathered.end(), packed.begin(), packed.end());
  }

  Tensor expected_mean = Tensor::empty({channels}), expected_var = Tensor::empty({channels});
  Tensor expected_total = Tensor::empty({1}, DType::F64);
  merge_rank_moments(Tensor::from_vector(gathered, {std::int64_t(gathered.size())}), expected_mean, expected_var,
                     expected_total);
  Tensor mean = nan_tensor({channels}), var = nan_tensor({channels}), total = nan_tensor({1}, DType::F64);
  merge_rank_moments(gathered_gpu, mean, var, total);
  CHECK(matches_oracle(mean, expected_mean));
  CHECK(matches_oracle(var, expected_var));
  CHECK(same_bits(total, expected_total));
  CHECK(on_cpu(total).to_vector<double>() == std::vector<double>{18});
}

TEST_CASE("cuda rank moments refuse float64 statistics, naming the op") {
  const Tensor mean = Tensor::zeros({2}, DType::F64).to(gpu()), var = mean.clone();
  Tensor row = nan_tensor({5}, DType::F64);
  CHECK_THROWS_WITH_AS(pack_rank_moments(mean, var, 1, row), doctest::Contains("pack_rank_moments"), Error);
}
