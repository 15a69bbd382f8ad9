// The moment rows of synchronized iABN (kernels/rank_moments.h) on the cpu.
//
// Tolerances of the merge against a two-pass float64 computation over the union: the values have
// a mean of 1e4 and a std of about 1, so both sides round at 1e4's scale, ~2e-12 absolute per
// operation. Mean: relative 2e-16 per rounding, a few of them: 1e-14 leaves a margin of 10 or more.
// M2 (count x variance, ~18): each squared deviation carries ~2 x 2e-12 relative-to-1 error, summed
// over 18 values ~1e-10 absolute, ~1e-11 relative: 1e-9. Power sums would lose every digit here.
#include <doctest/doctest.h>

#include <vector>

#include "kernels/random.h"
#include "kernels/rank_moments.h"

using namespace pans;

namespace {

// One rank's values {count, channels} with mean 1e4, std 1.
Tensor rank_values(int count, std::int64_t channels, std::uint64_t seed) {
  Tensor draws = Tensor::empty({count, channels}, DType::F64);
  fill_normal(draws, seed, 0, 1e4, 1.0);
  return draws;
}

// Two-pass mean and biased variance per channel of values {n, C}.
void two_pass_moments(const std::vector<double>& values, std::int64_t channels, std::vector<double>& mean,
                      std::vector<double>& var) {
  const std::size_t n = values.size() / std::size_t(channels);
  mean.assign(std::size_t(channels), 0.0);
  var.assign(std::size_t(channels), 0.0);
  for (std::int64_t c = 0; c < channels; ++c) {
    for (std::size_t i = 0; i < n; ++i) mean[std::size_t(c)] += values[i * std::size_t(channels) + std::size_t(c)];
    mean[std::size_t(c)] /= double(n);
    for (std::size_t i = 0; i < n; ++i) {
      const double d = values[i * std::size_t(channels) + std::size_t(c)] - mean[std::size_t(c)];
      var[std::size_t(c)] += d * d;
    }
    var[std::size_t(c)] /= double(n);
  }
}

}  // namespace

TEST_CASE("pack: the row is [mean, var, count]") {
  for (const DType dtype : {DType::F32, DType::F64}) {
    const Tensor mean = Tensor::from_vector(std::vector<double>{1.5, -2.0}, {2}).cast(dtype);
    const Tensor var = Tensor::from_vector(std::vector<double>{0.25, 4.0}, {2}).cast(dtype);
    Tensor row = Tensor::empty({5}, DType::F64);
    pack_rank_moments(mean, var, 7, row);
    CHECK(row.to_vector<double>() == std::vector<double>{1.5, -2.0, 0.25, 4.0, 7.0});
  }
}

TEST_CASE("merge: Chan's merge of unequal ranks equals two-pass moments of the union") {
  // Three ranks of 5, 1 and 12 values per channel: unequal counts are why rows carry counts.
  const std::vector<int> counts = {5, 1, 12};
  const std::int64_t channels = 2;
  std::vector<double> all_values, gathered;
  for (std::size_t r = 0; r < counts.size(); ++r) {
    const std::vector<double> v = rank_values(counts[r], channels, 1 + r).to_vector<double>();
    all_values.insert(all_values.end(), v.begin(), v.end());
    std::vector<double> mean, var;
    two_pass_moments(v, channels, mean, var);
    Tensor row = Tensor::empty({2 * channels + 1}, DType::F64);
    pack_rank_moments(Tensor::from_vector(mean, {channels}), Tensor::from_vector(var, {channels}), counts[r], row);
    const std::vector<double> packed = row.to_vector<double>();
    gathered.insert(gathered.end(), packed.begin(), packed.end());
  }
  std::vector<double> expected_mean, expected_var;
  two_pass_moments(all_values, channels, expected_mean, expected_var);

  Tensor mean = Tensor::empty({channels}, DType::F64), var = Tensor::empty({channels}, DType::F64);
  Tensor total = Tensor::empty({1}, DType::F64);
  merge_rank_moments(Tensor::from_vector(gathered, {std::int64_t(gathered.size())}), mean, var, total);
  CHECK(total.to_vector<double>() == std::vector<double>{18});
  for (std::int64_t c = 0; c < channels; ++c) {
    CHECK(mean.to_vector<double>()[std::size_t(c)] == doctest::Approx(expected_mean[std::size_t(c)]).epsilon(1e-14));
    CHECK(18 * var.to_vector<double>()[std::size_t(c)] ==
          doctest::Approx(18 * expected_var[std::size_t(c)]).epsilon(1e-9));
  }
}

TEST_CASE("merge: one rank is the identity, float32 statistics get the float64 merge rounded once") {
  const Tensor row = Tensor::from_vector(std::vector<double>{0.1, 3.0, 0.7, 2.5, 4.0}, {5});
  for (const DType dtype : {DType::F32, DType::F64}) {
    Tensor mean = Tensor::empty({2}, dtype), var = Tensor::empty({2}, dtype), total = Tensor::empty({1}, DType::F64);
    merge_rank_moments(row, mean, var, total);
    CHECK(mean.cast(DType::F64).to_vector<double>() ==
          Tensor::from_vector(std::vector<double>{0.1, 3.0}, {2}).cast(dtype).cast(DType::F64).to_vector<double>());
    CHECK(var.cast(DType::F64).to_vector<double>() ==
          Tensor::from_vector(std::vector<double>{0.7, 2.5}, {2}).cast(dtype).cast(DType::F64).to_vector<double>());
    CHECK(total.to_vector<double>() == std::vector<double>{4});
  }
}

TEST_CASE("pack and merge: bad arguments are errors naming the argument") {
  const Tensor mean = Tensor::zeros({3}), var = Tensor::zeros({3});
  Tensor short_row = Tensor::empty({6}, DType::F64), f32_row = Tensor::empty({7}, DType::F32);
  CHECK_THROWS_WITH_AS(pack_rank_moments(mean, var, 2, short_row), doctest::Contains("row must have shape [7]"), Error);
  CHECK_THROWS_WITH_AS(pack_rank_moments(mean, var, 2, f32_row), doctest::Contains("row must be float64"), Error);
  Tensor row = Tensor::empty({7}, DType::F64);
  CHECK_THROWS_WITH_AS(pack_rank_moments(mean, var, 0, row), doctest::Contains("count must be >= 1"), Error);
  Tensor m = Tensor::empty({3}), v = Tensor::empty({3}), total = Tensor::empty({1}, DType::F64);
  CHECK_THROWS_WITH_AS(merge_rank_moments(Tensor::empty({10}, DType::F64), m, v, total),
                       doctest::Contains("whole rows of 2 x 3 + 1"), Error);
  Tensor wrong_var = Tensor::empty({2});
  CHECK_THROWS_WITH_AS(merge_rank_moments(Tensor::empty({7}, DType::F64), m, wrong_var, total),
                       doctest::Contains("var must have shape [3]"), Error);
}
