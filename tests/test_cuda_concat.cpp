// Channel concat and split on CUDA (or the emulator) against the CPU oracle. Both are copies, so
// every comparison is bit for bit, on the GPU as on the emulator, for float32 and for bfloat16
// storage (the oracle copies the bfloat16-rounded values as float32; rounded to bfloat16 again on
// the host they must be the GPU's bytes).
#include <doctest/doctest.h>

#include <vector>

#include "kernels/concat.h"
#include "kernels/random.h"
#include "tests/cuda_storage_types.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

namespace {

Tensor random_f32(const Shape& shape, std::uint64_t stream) { return uniform_f32(shape, stream, -1.0, 1.0, 2024); }

// Concatenates parts of the given channel counts on both devices, then splits a random gradient;
// the GPU tensors are stored as T and the cpu oracle copies the same stored values.
template <class T>
void check_concat_split(std::int64_t batch, std::int64_t height, std::int64_t width,
                        const std::vector<std::int64_t>& channels) {
  CAPTURE(batch);
  CAPTURE(height);
  CAPTURE(width);
  CAPTURE(channels.size());
  std::vector<Tensor> parts, gpu_parts;
  std::int64_t total = 0;
  for (std::size_t i = 0; i < channels.size(); ++i) {
    const Stored part(random_f32({batch, height, width, channels[i]}, 10 + i), dtype_of<T>);
    parts.push_back(part.f32);
    gpu_parts.push_back(part.device);
    total += channels[i];
  }
  const Tensor expected = concat_channels(parts);
  Tensor out = nan_tensor({batch, height, width, total}, dtype_of<T>);
  concat_channels(gpu_parts, out);
  CHECK(same_bits(out, expected.cast(dtype_of<T>)));

  const Stored dout(random_f32(expected.shape(), 3), dtype_of<T>);
  std::vector<Tensor> dparts_expected, dparts;
  for (std::int64_t c : channels) {
    dparts_expected.push_back(Tensor::empty({batch, height, width, c}));
    dparts.push_back(nan_tensor({batch, height, width, c}, dtype_of<T>));
  }
  split_channels(dout.f32, dparts_expected);
  split_channels(dout.device, dparts);
  for (std::size_t i = 0; i < channels.size(); ++i) {
    CAPTURE(i);
    CHECK(same_bits(dparts[i], dparts_expected[i].cast(dtype_of<T>)));
  }
}

}  // namespace

TEST_CASE_TEMPLATE("cuda concat and split of the PSP head's five parts, odd channel counts, batch 1 and 3", T, float,
                   bf16) {
  check_concat_split<T>(3, 5, 7, {37, 3, 70, 5, 1});
  check_concat_split<T>(1, 9, 11, {70, 37, 37, 37, 37});  // ~87k elements: many grid-stride iterations
  check_concat_split<T>(3, 1, 1, {2, 1});
}

TEST_CASE_TEMPLATE("cuda concat and split with one part, and more parts than one launch takes", T, float, bf16) {
  check_concat_split<T>(3, 4, 5, {37});
  check_concat_split<T>(3, 3, 5, {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11});  // eleven parts: two launches of 8 and 3
  check_concat_split<T>(1, 2, 3, std::vector<std::int64_t>(17, 3));     // three launches
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
