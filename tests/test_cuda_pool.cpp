// Max pooling and adaptive average pooling on CUDA (or the emulator) against the CPU oracle run on
// the same float32 inputs.
//
// Tolerance: none, every comparison is bit for bit, on the GPU as on the emulator. Max pooling
// only selects and copies values. The adaptive pool's sums, the max-pool backward's sums and the
// adaptive backward's dy / area terms are float additions and IEEE divisions (nvcc's default
// -prec-div=true) done in the oracle's order: the gathers visit output cells in ascending order,
// which is the order in which the oracle's scatter adds them, and no multiply exists for nvcc to
// fuse into an FMA. A mismatch is a kernel bug, not rounding.
//
// bfloat16 storage: inputs rounded to bfloat16 on the host. The kernels compute in float32 in the
// same order and round once to bfloat16 on store, so their bytes must equal the float32 oracle's
// result on the rounded inputs, rounded to bfloat16 on the host (a max is an input value: exact);
// argmax must equal the oracle's on the rounded values (rounding makes ties common). Against the
// float64 oracle on the same values the error is the bfloat16 store, at most 2^-8 relative (8
// significant bits), plus the float32 sums' rounding (~1e-7 here): bound 2^-8 + 1e-5.
//
// Every check runs for both storage types (float32: no store rounding, bound 1e-5 against float64).
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "kernels/pool.h"
#include "kernels/random.h"
#include "tests/cuda_storage_types.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

namespace {

Tensor random_f32(const Shape& shape, std::uint64_t stream, double low = -1.0, double high = 1.0) {
  return uniform_f32(shape, stream, low, high, 2024);
}

// Values in {-1, 0, 1}: most 3x3 windows hold ties, so argmax depends on the tie rule.
Tensor tied_values(const Shape& shape, std::uint64_t stream) {
  Tensor t = random_f32(shape, stream, -1.0, 2.0);
  float* v = t.data<float>();
  for (std::int64_t i = 0; i < t.numel(); ++i) v[i] = std::floor(v[i]);
  return t;
}

// The float32 sums' rounding against the float64 oracle, ~1e-7 on these shapes.
constexpr double kFloat32SumTolerance = 1e-5;

Tensor gpu_indices(const Shape& shape, std::int32_t value) {
  Tensor host = Tensor::empty(shape, DType::I32);
  std::fill(host.data<std::int32_t>(), host.data<std::int32_t>() + host.numel(), value);
  return host.to(gpu());
}

// Forward, backward and a second backward run on `host_x` stored as T, each against the oracles
// on the same stored inputs.
template <class T>
void check_max_pool(const Tensor& host_x, const MaxPool2dParams& params) {
  const Stored x(host_x, dtype_of<T>);
  CAPTURE(x.device.describe("x"));
  CAPTURE(params.kernel_size);
  CAPTURE(params.stride);
  CAPTURE(params.padding);
  const MaxPool2dOutput expected = max_pool2d_forward(x.f32, params);
  Tensor y = nan_tensor(expected.y.shape(), dtype_of<T>);
  Tensor argmax = gpu_indices(expected.y.shape(), -7);
  max_pool2d_forward(x.device, y, argmax, params);
  CHECK(same_bits(y, expected.y.cast(dtype_of<T>)));
  CHECK(on_cpu(argmax).to_vector<std::int32_t>() == expected.argmax.to_vector<std::int32_t>());

  const Stored dy(random_f32(expected.y.shape(), 11), dtype_of<T>);
  Tensor dx_expected = Tensor::empty(host_x.shape()), dx_f64 = Tensor::empty(host_x.shape(), DType::F64);
  max_pool2d_backward(dy.f32, expected.argmax, dx_expected, params);
  max_pool2d_backward(dy.f64, expected.argmax, dx_f64, params);
  Tensor dx = nan_tensor(host_x.shape(), dtype_of<T>);
  max_pool2d_backward(dy.device, argmax, dx, params);
  INFO("max scaled error of dx: ", max_scaled_error(dx, dx_f64));
  CHECK(same_bits(dx, dx_expected.cast(dtype_of<T>)));
  CHECK(max_scaled_error(dx, dx_f64) <= kStoreRounding<T> + kFloat32SumTolerance);
  Tensor dx_again = nan_tensor(host_x.shape(), dtype_of<T>);
  max_pool2d_backward(dy.device, argmax, dx_again, params);
  CHECK(same_bits(dx_again, dx));  // deterministic: no atomics
}

template <class T>
void check_adaptive_pool(const Tensor& host_x, std::int64_t out_height, std::int64_t out_width) {
  const Stored x(host_x, dtype_of<T>);
  CAPTURE(x.device.describe("x"));
  CAPTURE(out_height);
  CAPTURE(out_width);
  const Tensor expected = adaptive_avg_pool2d_forward(x.f32, out_height, out_width);
  const Tensor expected_f64 = adaptive_avg_pool2d_forward(x.f64, out_height, out_width);
  Tensor y = nan_tensor(expected.shape(), dtype_of<T>);
  adaptive_avg_pool2d_forward(x.device, y);
  INFO("max scaled error of y: ", max_scaled_error(y, expected_f64));
  CHECK(same_bits(y, expected.cast(dtype_of<T>)));
  CHECK(max_scaled_error(y, expected_f64) <= kStoreRounding<T> + kFloat32SumTolerance);

  const Stored dy(random_f32(expected.shape(), 12), dtype_of<T>);
  Tensor dx_expected = Tensor::empty(host_x.shape()), dx_f64 = Tensor::empty(host_x.shape(), DType::F64);
  adaptive_avg_pool2d_backward(dy.f32, dx_expected);
  adaptive_avg_pool2d_backward(dy.f64, dx_f64);
  Tensor dx = nan_tensor(host_x.shape(), dtype_of<T>);
  adaptive_avg_pool2d_backward(dy.device, dx);
  INFO("max scaled error of dx: ", max_scaled_error(dx, dx_f64));
  CHECK(same_bits(dx, dx_expected.cast(dtype_of<T>)));
  CHECK(max_scaled_error(dx, dx_f64) <= kStoreRounding<T> + kFloat32SumTolerance);
  Tensor dx_again = nan_tensor(host_x.shape(), dtype_of<T>);
  adaptive_avg_pool2d_backward(dy.device, dx_again);
  CHECK(same_bits(dx_again, dx));
}

}  // namespace

TEST_CASE_TEMPLATE("cuda max pool 3x3/2 pad 1 matches the oracle on odd shapes, batch 1 and 3", T, float, bf16) {
  // 57x57 and 37 channels: ~30k outputs, far more than the emulator's grid, so the grid-stride
  // loops run several iterations per thread.
  for (const Shape& shape : std::vector<Shape>{{1, 9, 7, 3}, {3, 13, 11, 37}, {1, 57, 57, 37}, {3, 2, 3, 70}})
    check_max_pool<T>(random_f32(shape, 1), MaxPool2dParams{});
}

TEST_CASE_TEMPLATE("cuda max pool other windows: stride 1, no padding, a stride wider than the window", T, float,
                   bf16) {
  const Tensor x = random_f32({3, 11, 10, 37}, 2);
  for (const MaxPool2dParams& params : {MaxPool2dParams{2, 2, 0}, MaxPool2dParams{3, 1, 1}, MaxPool2dParams{5, 3, 2},
                                        MaxPool2dParams{1, 3, 0}, MaxPool2dParams{2, 3, 1}})
    check_max_pool<T>(x, params);  // {1,3,0} and {2,3,1} leave inputs in no window: their dx is 0
}

TEST_CASE_TEMPLATE("cuda max pool ties pick the first maximum in window order, as the oracle", T, float, bf16) {
  check_max_pool<T>(tied_values({3, 15, 13, 37}, 3), MaxPool2dParams{});
  check_max_pool<T>(tied_values({1, 8, 9, 5}, 4), MaxPool2dParams{3, 1, 1});
  // All equal: every window picks its first inside element; overlapping windows that pick the same
  // element add their dy in the backward.
  Tensor ones = Tensor::empty({1, 7, 8, 3});
  std::fill(ones.data<float>(), ones.data<float>() + ones.numel(), 1.0f);
  check_max_pool<T>(ones, MaxPool2dParams{});
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
  check_max_pool<float>(x, MaxPool2dParams{});
  check_max_pool<float>(x, MaxPool2dParams{2, 2, 0});
}

TEST_CASE_TEMPLATE("cuda adaptive average pool to the PSP pyramid 1, 2, 3, 6 from 57x57", T, float, bf16) {
  const Tensor x = random_f32({1, 57, 57, 37}, 6);
  for (std::int64_t size : {1, 2, 3, 6}) check_adaptive_pool<T>(x, size, size);
}

TEST_CASE_TEMPLATE("cuda adaptive average pool from odd sizes, overlapping bins and outputs larger than the input", T,
                   float, bf16) {
  const Tensor x = random_f32({3, 7, 9, 70}, 7);
  const std::int64_t sizes[][2] = {{1, 1}, {2, 2}, {3, 3}, {6, 6}, {2, 6}, {9, 11}};
  for (const auto& size : sizes) check_adaptive_pool<T>(x, size[0], size[1]);
  check_adaptive_pool<T>(random_f32({1, 13, 5, 3}, 8), 6, 2);
  check_adaptive_pool<T>(random_f32({3, 1, 1, 3}, 9), 3, 2);
}

TEST_CASE("cuda pool rejects float64 with a clear message") {
  const Tensor x = Tensor::zeros({1, 5, 5, 3}, DType::F64, gpu());
  Tensor y = Tensor::zeros({1, 3, 3, 3}, DType::F64, gpu());
  Tensor argmax = Tensor::zeros({1, 3, 3, 3}, DType::I32, gpu());
  CHECK_THROWS_WITH_AS(max_pool2d_forward(x, y, argmax), doctest::Contains("float64 is CPU-only"), Error);
  Tensor pooled = Tensor::zeros({1, 2, 2, 3}, DType::F64, gpu());
  CHECK_THROWS_WITH_AS(adaptive_avg_pool2d_forward(x, pooled), doctest::Contains("float64 is CPU-only"), Error);
  // bfloat16 beside the int32 argmax is fine; a float32 output beside a bfloat16 input is not.
  const Tensor x_bf16 = Tensor::zeros({1, 5, 5, 3}, DType::BF16, gpu());
  Tensor y_f32 = Tensor::zeros({1, 3, 3, 3}, DType::F32, gpu());
  CHECK_THROWS_WITH_AS(max_pool2d_forward(x_bf16, y_f32, argmax),
                       doctest::Contains("all tensors must share one dtype, y is float32 and x is bfloat16"), Error);
}
