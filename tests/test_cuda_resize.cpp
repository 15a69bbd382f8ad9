// Bilinear resize (align_corners=False) on CUDA (or the emulator) against the CPU oracle run on the
// same float32 inputs.
//
// Tolerance. The kernels compute the oracle's expressions in its order, the backward gather adds
// each input's terms in the order of the oracle's scatter, and products and sums use __fmul_rn /
// __fadd_rn, which nvcc does not fuse. On the emulator (g++, no FMA contraction) every result is
// therefore the oracle's bit for bit, and the tests demand that. On a GPU one difference remains:
// nvcc may fuse scale * (dst + 0.5) - 0.5 inside the shared bilinear_tap into one FMA, moving src,
// hence a weight, by up to ~1 ulp of src (2^-18 for axes below 64). With inputs in [-1, 1) a
// forward value moves by at most |x1 - x0| * 2^-18 < 1e-5; a gradient sums up to ~(2 out/in)^2
// such terms (about 100 for 6 -> 57), a few 1e-5 at worst. The native bounds are 2e-5 (forward)
// and 1e-4 (backward) in max_scaled_error.
//
// bfloat16 storage: inputs rounded to bfloat16 on the host, the oracle run in float64 on the same
// rounded values. The kernels compute in float32 as above and round once to bfloat16 on store,
// which adds at most 2^-8 relative (8 significant bits; max_scaled_error divides by
// max(1, |value|), so at most 2^-8 for any size). Bounds: 2^-8 + the native float32 bound above
// (which also covers the float32 oracle's own rounding against float64, ~1e-6 here). On the
// emulator the float32 arithmetic is the float32 oracle's, so the bytes must equal that oracle's
// result rounded to bfloat16 on the host.
#include <doctest/doctest.h>

#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "kernels/random.h"
#include "kernels/resize.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

namespace {

constexpr double kForwardTolerance = kEmulated ? 0.0 : 2e-5;
constexpr double kBackwardTolerance = kEmulated ? 0.0 : 1e-4;

Tensor random_f32(const Shape& shape, std::uint64_t stream) { return uniform_f32(shape, stream, -1.0, 1.0, 2024); }

bool identical(const Tensor& a, const Tensor& b) {
  const Tensor x = on_cpu(a), y = on_cpu(b);
  return x.same_shape(y) && std::memcmp(x.data<float>(), y.data<float>(), std::size_t(x.numel()) * sizeof(float)) == 0;
}

// Inputs rounded to bfloat16: on the GPU as bfloat16 (CUDA-only storage, so cast on the cpu and
// moved at once), for the oracles as the same values in float64 and float32.
struct Bf16Input {
  Tensor device, f64, f32;
  explicit Bf16Input(const Tensor& host)
      : device(host.cast(DType::BF16).to(gpu())),
        f64(host.cast(DType::BF16).cast(DType::F64)),
        f32(host.cast(DType::BF16).cast(DType::F32)) {}
};

bool same_bytes(const Tensor& a, const Tensor& b) {
  const Tensor x = on_cpu(a), y = on_cpu(b);
  return x.dtype() == y.dtype() && x.same_shape(y) && std::memcmp(x.raw_data(), y.raw_data(), x.nbytes()) == 0;
}

void check_resize_bf16(const Shape& in_shape, std::int64_t out_height, std::int64_t out_width) {
  const Bf16Input x(random_f32(in_shape, 21));
  CAPTURE(x.device.describe("x"));
  CAPTURE(out_height);
  CAPTURE(out_width);
  const Tensor expected = resize_bilinear_forward(x.f64, out_height, out_width);
  Tensor y = nan_tensor(expected.shape(), DType::BF16);
  resize_bilinear_forward(x.device, y);
  CHECK(max_scaled_error(y, expected) <= 0x1p-8 + 2e-5);
  if (kEmulated) CHECK(same_bytes(y, resize_bilinear_forward(x.f32, out_height, out_width).cast(DType::BF16)));

  const Bf16Input dy(random_f32(expected.shape(), 22));
  Tensor dx_expected = Tensor::empty(in_shape, DType::F64), dx_f32 = Tensor::empty(in_shape);
  resize_bilinear_backward(dy.f64, dx_expected);
  resize_bilinear_backward(dy.f32, dx_f32);
  Tensor dx = nan_tensor(in_shape, DType::BF16);
  resize_bilinear_backward(dy.device, dx);
  CHECK(max_scaled_error(dx, dx_expected) <= 0x1p-8 + 1e-4);
  if (kEmulated) CHECK(same_bytes(dx, dx_f32.cast(DType::BF16)));
}

void check_resize(const Shape& in_shape, std::int64_t out_height, std::int64_t out_width) {
  const Tensor x = random_f32(in_shape, 1);
  CAPTURE(x.describe("x"));
  CAPTURE(out_height);
  CAPTURE(out_width);
  const Tensor expected = resize_bilinear_forward(x, out_height, out_width);
  Tensor y = nan_tensor(expected.shape());
  resize_bilinear_forward(x.to(gpu()), y);
  CHECK(max_scaled_error(y, expected) <= kForwardTolerance);

  const Tensor dy = random_f32(expected.shape(), 2);
  Tensor dx_expected = Tensor::empty(x.shape());
  resize_bilinear_backward(dy, dx_expected);
  const Tensor dy_gpu = dy.to(gpu());
  Tensor dx = nan_tensor(x.shape());
  resize_bilinear_backward(dy_gpu, dx);
  CHECK(max_scaled_error(dx, dx_expected) <= kBackwardTolerance);
  Tensor dx_again = nan_tensor(x.shape());
  resize_bilinear_backward(dy_gpu, dx_again);
  CHECK(identical(dx_again, dx));  // deterministic: a gather, no atomics
}

}  // namespace

TEST_CASE("cuda bilinear upsampling: the PSP branches to 57, and odd non-square sizes") {
  check_resize({1, 6, 6, 37}, 57, 57);  // ~120k outputs: many grid-stride iterations per thread
  check_resize({3, 2, 2, 5}, 57, 57);
  check_resize({1, 8, 8, 3}, 57, 57);
  check_resize({3, 13, 11, 37}, 29, 23);
  check_resize({3, 5, 7, 3}, 9, 9);
}

TEST_CASE("cuda bilinear resize from a single pixel broadcasts it") {
  check_resize({3, 1, 1, 70}, 5, 5);
  check_resize({1, 1, 1, 3}, 57, 57);  // one input element gathers all 57x57 outputs
  check_resize({3, 1, 4, 37}, 6, 9);
}

TEST_CASE("cuda bilinear downsampling") {
  check_resize({1, 57, 57, 3}, 6, 6);
  check_resize({3, 7, 9, 5}, 3, 4);
  check_resize({3, 9, 8, 70}, 1, 1);
  check_resize({1, 12, 7, 37}, 5, 13);  // down in one axis, up in the other
}

TEST_CASE("cuda bilinear resize to the same size copies, forward and backward") {
  const Tensor x = random_f32({3, 5, 7, 37}, 3);
  Tensor y = nan_tensor(x.shape());
  resize_bilinear_forward(x.to(gpu()), y);
  CHECK(identical(y, x));
  Tensor dx = nan_tensor(x.shape());
  resize_bilinear_backward(x.to(gpu()), dx);
  CHECK(identical(dx, x));
}

#ifdef PANS_SIMT_EMU
// Bit-exact agreement also covers non-finite values: 0 * inf = NaN where a tap has weight 0 (the
// clamped first outputs, the last row's missing successor), inf elsewhere, as in the oracle. On a
// GPU a fused tap can turn a zero weight into 1e-8 (inf instead of NaN), so this is checked on the
// emulator only.
TEST_CASE("cuda bilinear resize propagates infinities and NaN exactly as the oracle") {
  const float inf = std::numeric_limits<float>::infinity();
  for (const auto& [in_shape, out_size] :
       std::vector<std::pair<Shape, std::int64_t>>{{{1, 6, 6, 3}, 57}, {{3, 1, 1, 5}, 5}, {{1, 9, 7, 3}, 4}}) {
    Tensor x = random_f32(in_shape, 4);
    x.data<float>()[1] = inf;
    x.data<float>()[x.numel() - 1] = -inf;
    const Tensor expected = resize_bilinear_forward(x, out_size, out_size);
    Tensor y = nan_tensor(expected.shape());
    resize_bilinear_forward(x.to(gpu()), y);
    CHECK(identical(y, expected));

    Tensor dy = random_f32(expected.shape(), 5);
    dy.data<float>()[0] = inf;  // read with weight 0 by input index 1 of each axis
    dy.data<float>()[dy.numel() / 2] = std::numeric_limits<float>::quiet_NaN();
    dy.data<float>()[dy.numel() - 1] = -inf;
    Tensor dx_expected = Tensor::empty(x.shape());
    resize_bilinear_backward(dy, dx_expected);
    Tensor dx = nan_tensor(x.shape());
    resize_bilinear_backward(dy.to(gpu()), dx);
    CHECK(identical(dx, dx_expected));
  }
}
#endif

TEST_CASE("cuda bilinear resize of bfloat16 storage: up, down, and the same size") {
  check_resize_bf16({1, 6, 6, 37}, 57, 57);
  check_resize_bf16({3, 5, 7, 3}, 9, 9);
  check_resize_bf16({3, 13, 11, 37}, 6, 5);
  check_resize_bf16({3, 1, 4, 5}, 6, 9);
  // Equal sizes copy the bfloat16 patterns.
  const Bf16Input x(random_f32({3, 5, 7, 37}, 23));
  Tensor y = nan_tensor(x.device.shape(), DType::BF16), dx = nan_tensor(x.device.shape(), DType::BF16);
  resize_bilinear_forward(x.device, y);
  resize_bilinear_backward(x.device, dx);
  CHECK(same_bytes(y, x.device));
  CHECK(same_bytes(dx, x.device));
}

TEST_CASE("cuda resize rejects float64 with a clear message") {
  const Tensor x = Tensor::zeros({1, 5, 5, 3}, DType::F64, gpu());
  Tensor y = Tensor::zeros({1, 9, 9, 3}, DType::F64, gpu());
  CHECK_THROWS_WITH_AS(resize_bilinear_forward(x, y), doctest::Contains("float64 is CPU-only"), Error);
}
