// Max pooling and adaptive average pooling on CUDA (or the emulator) against the CPU oracle run on
// the same float32 inputs.
//
// Tolerance: none, every comparison is bit for bit, on the GPU as on the emulator. Max pooling
// only selects and copies values. The adaptive pool's sums, the max-pool backward's sums and the
// adaptive backward's dy / area terms are float additions and IEEE divisions (nvcc's default
// -prec-div=true) done in the oracle's order: the gathers visit output cells in ascending order,
// which is the order in which the oracle's scatter adds them, and no multiply exists for nvcc to
// fuse into an FMA. A mismatch is a kernel bug, not rounding.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "kernels/pool.h"
#include "kernels/random.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

namespace {

Tensor random_f32(const Shape& shape, std::uint64_t stream, double low = -1.0, double high = 1.0) {
  Tensor t = Tensor::empty(shape);
  fill_uniform(t, 2024, stream, low, high);
  return t;
}

// Values in {-1, 0, 1}: most 3x3 windows hold ties, so argmax depends on the tie rule.
Tensor tied_values(const Shape& shape, std::uint64_t stream) {
  Tensor t = random_f32(shape, stream, -1.0, 2.0);
  float* v = t.data<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) v[i] = std::floor(v[i]);
  return t;
}

// Bitwise equality of two float32 tensors on any devices (NaN equals the same NaN).
bool identical(const Tensor& a, const Tensor& b) {
  const Tensor x = on_cpu(a), y = on_cpu(b);
  return x.same_shape(y) && std::memcmp(x.data<float>(), y.data<float>(), std::size_t(x.numel()) * sizeof(float)) == 0;
}

Tensor gpu_indices(const Shape& shape, std::int32_t value) {
  Tensor host = Tensor::empty(shape, DType::I32);
  std::fill(host.data<std::int32_t>(), host.data<std::int32_t>() + host.numel(), value);
  return host.to(gpu());
}

// Forward, backward and a second backward run, each against the oracle on the same inputs.
void check_max_pool(const Tensor& x, const MaxPool2dParams& params) {
  CAPTURE(x.describe("x"));
  CAPTURE(params.kernel_size);
  CAPTURE(params.stride);
  CAPTURE(params.padding);
  const MaxPool2dOutput expected = max_pool2d_forward(x, params);
  Tensor y = nan_tensor(expected.y.shape());
  Tensor argmax = gpu_indices(expected.y.shape(), -7);
  max_pool2d_forward(x.to(gpu()), y, argmax, params);
  CHECK(identical(y, expected.y));
  CHECK(on_cpu(argmax).to_vector<std::int32_t>() == expected.argmax.to_vector<std::int32_t>());

  const Tensor dy = random_f32(expected.y.shape(), 11);
  Tensor dx_expected = Tensor::empty(x.shape());
  max_pool2d_backward(dy, expected.argmax, dx_expected, params);
  const Tensor dy_gpu = dy.to(gpu());
  Tensor dx = nan_tensor(x.shape());
  max_pool2d_backward(dy_gpu, argmax, dx, params);
  INFO("max scaled error of dx: ", max_scaled_error(dx, dx_expected));
  CHECK(identical(dx, dx_expected));
  Tensor dx_again = nan_tensor(x.shape());
  max_pool2d_backward(dy_gpu, argmax, dx_again, params);
  CHECK(identical(dx_again, dx));  // deterministic: no atomics
}

void check_adaptive_pool(const Tensor& x, std::int64_t out_height, std::int64_t out_width) {
  CAPTURE(x.describe("x"));
  CAPTURE(out_height);
  CAPTURE(out_width);
  const Tensor expected = adaptive_avg_pool2d_forward(x, out_height, out_width);
  Tensor y = nan_tensor(expected.shape());
  adaptive_avg_pool2d_forward(x.to(gpu()), y);
  INFO("max scaled error of y: ", max_scaled_error(y, expected));
  CHECK(identical(y, expected));

  const Tensor dy = random_f32(expected.shape(), 12);
  Tensor dx_expected = Tensor::empty(x.shape());
  adaptive_avg_pool2d_backward(dy, dx_expected);
  const Tensor dy_gpu = dy.to(gpu());
  Tensor dx = nan_tensor(x.shape());
  adaptive_avg_pool2d_backward(dy_gpu, dx);
  INFO("max scaled error of dx: ", max_scaled_error(dx, dx_expected));
  CHECK(identical(dx, dx_expected));
  Tensor dx_again = nan_tensor(x.shape());
  adaptive_avg_pool2d_backward(dy_gpu, dx_again);
  CHECK(identical(dx_again, dx));
}

}  // namespace

TEST_CASE("cuda max pool 3x3/2 pad 1 matches the oracle on odd shapes, batch 1 and 3") {
  // 57x57 and 37 channels: ~30k outputs, far more than the emulator's grid, so the grid-stride
  // loops run several iterations per thread.
  for (const Shape& shape : std::vector<Shape>{{1, 9, 7, 3}, {3, 13, 11, 37}, {1, 57, 57, 37}, {3, 2, 3, 70}})
    check_max_pool(random_f32(shape, 1), MaxPool2dParams{});
}

TEST_CASE("cuda max pool other windows: stride 1, no padding, a stride wider than the window") {
  const Tensor x = random_f32({3, 11, 10, 37}, 2);
  for (const MaxPool2dParams& params : {MaxPool2dParams{2, 2, 0}, MaxPool2dParams{3, 1, 1}, MaxPool2dParams{5, 3, 2},
                                        MaxPool2dParams{1, 3, 0}, MaxPool2dParams{2, 3, 1}})
    check_max_pool(x, params);  // {1,3,0} and {2,3,1} leave inputs in no window: their dx is 0
}

TEST_CASE("cuda max pool ties pick the first maximum in window order, as the oracle") {
  check_max_pool(tied_values({3, 15, 13, 37}, 3), MaxPool2dParams{});
  check_max_pool(tied_values({1, 8, 9, 5}, 4), MaxPool2dParams{3, 1, 1});
  // All equal: every window picks its first inside element; overlapping windows that pick the same
  // element add their dy in the backward.
  Tensor ones = Tensor::empty({1, 7, 8, 3});
  std::fill(ones.data<float>(), ones.data<float>() + ones.numel(), 1.0f);
  check_max_pool(ones, MaxPool2dParams{});
}

TEST_CASE("cuda max pool propagates NaN and picks the last NaN of a window, as the oracle") {
  Tensor x = random_f32({3, 9, 11, 5}, 5);
  float* v = x.data<float>();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const auto at = [&](std::int64_t n, std::int64_t iy, std::int64_t ix, std::int64_t c) -> float& {
    return v[((n * 9 + iy) * 11 + ix) * 5 + c];
  };
  at(0, 0, 0, 0) = nan;
  at(0, 1, 1, 0) = nan;  // two NaNs in window (0,0): the oracle keeps the later one's index
  at(0, 4, 4, 1) = -nan;
  at(1, 8, 10, 2) = nan;  // the last element
  at(1, 3, 3, 3) = inf;
  at(1, 3, 4, 3) = nan;  // a NaN after an infinity
  at(2, 5, 5, 4) = -inf;
  for (std::int64_t iy = 0; iy < 3; ++iy)
    for (std::int64_t ix = 0; ix < 3; ++ix) at(2, iy, ix, 2) = -inf;  // an all -inf window
  check_max_pool(x, MaxPool2dParams{});
  check_max_pool(x, MaxPool2dParams{2, 2, 0});
}

TEST_CASE("cuda adaptive average pool to the PSP pyramid 1, 2, 3, 6 from 57x57") {
  const Tensor x = random_f32({1, 57, 57, 37}, 6);
  for (std::int64_t size : {1, 2, 3, 6}) check_adaptive_pool(x, size, size);
}

TEST_CASE("cuda adaptive average pool from odd sizes, overlapping bins and outputs larger than the input") {
  const Tensor x = random_f32({3, 7, 9, 70}, 7);
  const std::int64_t sizes[][2] = {{1, 1}, {2, 2}, {3, 3}, {6, 6}, {2, 6}, {9, 11}};
  for (const auto& size : sizes) check_adaptive_pool(x, size[0], size[1]);
  check_adaptive_pool(random_f32({1, 13, 5, 3}, 8), 6, 2);
  check_adaptive_pool(random_f32({3, 1, 1, 3}, 9), 3, 2);
}

TEST_CASE("cuda pool rejects float64 with a clear message") {
  const Tensor x = Tensor::zeros({1, 5, 5, 3}, DType::F64, gpu());
  Tensor y = Tensor::zeros({1, 3, 3, 3}, DType::F64, gpu());
  Tensor argmax = Tensor::zeros({1, 3, 3, 3}, DType::I32, gpu());
  CHECK_THROWS_WITH_AS(max_pool2d_forward(x, y, argmax), doctest::Contains("float64 is CPU-only"), Error);
  Tensor pooled = Tensor::zeros({1, 2, 2, 3}, DType::F64, gpu());
  CHECK_THROWS_WITH_AS(adaptive_avg_pool2d_forward(x, pooled), doctest::Contains("float64 is CPU-only"), Error);
}
