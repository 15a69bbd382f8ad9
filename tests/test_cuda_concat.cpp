// Channel concat and split on CUDA (or the emulator) against the CPU oracle. Both are copies, so
// every comparison is bit for bit, on the GPU as on the emulator.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "kernels/concat.h"
#include "kernels/random.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

namespace {

Tensor random_f32(const Shape& shape, std::uint64_t stream) {
  Tensor t = Tensor::empty(shape);
  fill_uniform(t, 2024, stream, -1.0, 1.0);
  return t;
}

bool identical(const Tensor& a, const Tensor& b) {
  const Tensor x = on_cpu(a), y = on_cpu(b);
  return x.same_shape(y) && std::memcmp(x.data<float>(), y.data<float>(), std::size_t(x.numel()) * sizeof(float)) == 0;
}

// Concatenates parts of the given channel counts on both devices, then splits a random gradient.
void check_concat_split(std::int64_t batch, std::int64_t height, std::int64_t width,
                        const std::vector<std::int64_t>& channels) {
  CAPTURE(batch);
  CAPTURE(height);
  CAPTURE(width);
  CAPTURE(channels.size());
  std::vector<Tensor> parts, gpu_parts;
  std::int64_t total = 0;
  for (std::size_t i = 0; i < channels.size(); ++i) {
    parts.push_back(random_f32({batch, height, width, channels[i]}, 10 + i));
    gpu_parts.push_back(parts.back().to(gpu()));
    total += channels[i];
  }
  const Tensor expected = concat_channels(parts);
  Tensor out = nan_tensor({batch, height, width, total});
  concat_channels(gpu_parts, out);
  CHECK(identical(out, expected));

  const Tensor dout = random_f32(expected.shape(), 3);
  std::vector<Tensor> dparts_expected, dparts;
  for (std::int64_t c : channels) {
    dparts_expected.push_back(Tensor::empty({batch, height, width, c}));
    dparts.push_back(nan_tensor({batch, height, width, c}));
  }
  split_channels(dout, dparts_expected);
  split_channels(dout.to(gpu()), dparts);
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

TEST_CASE("cuda concat rejects float64 with a clear message") {
  const Tensor x = Tensor::zeros({1, 2, 2, 3}, DType::F64, gpu());
  Tensor out = Tensor::zeros({1, 2, 2, 3}, DType::F64, gpu());
  CHECK_THROWS_WITH_AS(concat_channels({x}, out), doctest::Contains("float64 is CPU-only"), Error);
  std::vector<Tensor> dparts = {Tensor::zeros({1, 2, 2, 3}, DType::F64, gpu())};
  CHECK_THROWS_WITH_AS(split_channels(x, dparts), doctest::Contains("float64 is CPU-only"), Error);
}
