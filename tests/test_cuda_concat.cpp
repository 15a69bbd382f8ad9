// Channel concat and split on CUDA (or the emulator) against the CPU oracle. Both are copies, so
// every comparison is bit for bit, on the GPU as on the emulator, for float32 and for bfloat16
// storage (the oracle copies the bfloat16-rounded values as float32; rounded to bfloat16 again on
// the host they must be the GPU's bytes).
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "kernels/concat.h"
#include "kernels/random.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

namespace {

Tensor random_f32(const Shape& shape, std::uint64_t stream) { return uniform_f32(shape, stream, -1.0, 1.0, 2024); }

// Equal bytes: `a` (any device, float32 or bfloat16) against the float32 cpu tensor `expected`
// stored in a's dtype.
bool identical(const Tensor& a, const Tensor& expected) {
  const Tensor x = on_cpu(a), y = expected.cast(a.dtype());
  return x.same_shape(y) && std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()) == 0;
}

// Random float32 values, rounded to `storage` (float32: unchanged; bfloat16: to 8 significant
// bits) so that the cpu oracle and the GPU copy the same values.
Tensor random_values(const Shape& shape, std::uint64_t stream, DType storage) {
  return random_f32(shape, stream).cast(storage).cast(DType::F32);
}

// Concatenates parts of the given channel counts on both devices, then splits a random gradient;
// the GPU tensors have the dtype `storage` (float32, or bfloat16: CUDA-only, so cast on the cpu
// and moved at once).
void check_concat_split(std::int64_t batch, std::int64_t height, std::int64_t width,
                        const std::vector<std::int64_t>& channels, DType storage = DType::F32) {
  CAPTURE(batch);
  CAPTURE(height);
  CAPTURE(width);
  CAPTURE(channels.size());
  CAPTURE(dtype_name(storage));
  std::vector<Tensor> parts, gpu_parts;
  std::int64_t total = 0;
  for (std::size_t i = 0; i < channels.size(); ++i) {
    parts.push_back(random_values({batch, height, width, channels[i]}, 10 + i, storage));
    gpu_parts.push_back(parts.back().cast(storage).to(gpu()));
    total += channels[i];
  }
  const Tensor expected = concat_channels(parts);
  Tensor out = nan_tensor({batch, height, width, total}, storage);
  concat_channels(gpu_parts, out);
  CHECK(identical(out, expected));

  const Tensor dout = random_values(expected.shape(), 3, storage);
  std::vector<Tensor> dparts_expected, dparts;
  for (std::int64_t c : channels) {
    dparts_expected.push_back(Tensor::empty({batch, height, width, c}));
    dparts.push_back(nan_tensor({batch, height, width, c}, storage));
  }
  split_channels(dout, dparts_expected);
  split_channels(dout.cast(storage).to(gpu()), dparts);
  for (std::size_t i = 0; i < channels.size(); ++i) {
    CAPTURE(i);
    CHECK(identical(dparts[i], dparts_expected[i]));
  }
}

}  // namespace

TEST_CASE("cuda concat and split of the PSP head's five parts, odd channel counts, batch 1 and 3") {
  check_concat_split(3, 5, 7, {37, 3, 70, 5, 1});
  check_concat_split(1, 9, 11, {70, 37, 37, 37, 37});  // ~87k elements: many grid-stride iterations
  check_concat_split(3, 1, 1, {2, 1});
}

TEST_CASE("cuda concat and split with one part, and more parts than one launch takes") {
  check_concat_split(3, 4, 5, {37});
  check_concat_split(3, 3, 5, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});  // eleven parts: two launches of 8 and 3
  check_concat_split(1, 2, 3, std::vector<std::int64_t>(17, 3));     // three launches
}

TEST_CASE("cuda concat and split of bfloat16 storage") {
  check_concat_split(3, 5, 7, {37, 3, 70, 5, 1}, DType::BF16);
  check_concat_split(1, 9, 11, {70, 37, 37, 37, 37}, DType::BF16);
  check_concat_split(3, 3, 5, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, DType::BF16);
}

TEST_CASE("cuda concat rejects float64 with a clear message") {
  const Tensor x = Tensor::zeros({1, 2, 2, 3}, DType::F64, gpu());
  Tensor out = Tensor::zeros({1, 2, 2, 3}, DType::F64, gpu());
  CHECK_THROWS_WITH_AS(concat_channels({x}, out), doctest::Contains("float64 is CPU-only"), Error);
  std::vector<Tensor> dparts = {Tensor::zeros({1, 2, 2, 3}, DType::F64, gpu())};
  CHECK_THROWS_WITH_AS(split_channels(x, dparts), doctest::Contains("float64 is CPU-only"), Error);
  // bfloat16 parts must not be mixed with a float32 whole.
  const Tensor part = Tensor::zeros({1, 2, 2, 3}, DType::BF16, gpu());
  Tensor whole = Tensor::zeros({1, 2, 2, 3}, DType::F32, gpu());
  CHECK_THROWS_WITH_AS(concat_channels({part}, whole),
                       doctest::Contains("all tensors must share one dtype, out is float32 and inputs[0] is bfloat16"),
                       Error);
}
