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
//
// Every check runs for both storage types (float32: no store rounding).
#include <doctest/doctest.h>

#include <limits>
#include <utility>
#include <vector>

#include "kernels/random.h"
#include "kernels/resize.h"
#include "tests/cuda_storage_types.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

namespace {

constexpr double kNativeForwardTolerance = 2e-5, kNativeBackwardTolerance = 1e-4;
// Against the float32 oracle: the native bounds, or on the emulator its bits.
constexpr double kForwardTolerance = kEmulated ? 0.0 : kNativeForwardTolerance;
constexpr double kBackwardTolerance = kEmulated ? 0.0 : kNativeBackwardTolerance;

Tensor random_f32(const Shape& shape, std::uint64_t stream) { return uniform_f32(shape, stream, -1.0, 1.0, 2024); }

// Forward, backward and a second backward run on inputs stored as T, against the float32 oracle on
// the same stored values (the bounds above plus the store's rounding; on the emulator its bits,
// rounded to T) and against the float64 oracle.
template <class T>
void check_resize(const Shape& in_shape, std::int64_t out_height, std::int64_t out_width) {
  const Stored x(random_f32(in_shape, 1), dtype_of<T>);
  CAPTURE(x.device.describe("x"));
  CAPTURE(out_height);
  CAPTURE(out_width);
  const Tensor expected = resize_bilinear_forward(x.f32, out_height, out_width);
  Tensor y = nan_tensor(expected.shape(), dtype_of<T>);
  resize_bilinear_forward(x.device, y);
  CHECK(max_scaled_error(y, expected) <= kStoreRounding<T> + kForwardTolerance);
  CHECK(max_scaled_error(y, resize_bilinear_forward(x.f64, out_height, out_width)) <=
        kStoreRounding<T> + kNativeForwardTolerance);
  if (kEmulated) CHECK(same_bits(y, expected.cast(dtype_of<T>)));

  const Stored dy(random_f32(expected.shape(), 2), dtype_of<T>);
  Tensor dx_expected = Tensor::empty(in_shape), dx_f64 = Tensor::empty(in_shape, DType::F64);
  resize_bilinear_backward(dy.f32, dx_expected);
  resize_bilinear_backward(dy.f64, dx_f64);
  Tensor dx = nan_tensor(in_shape, dtype_of<T>);
  resize_bilinear_backward(dy.device, dx);
  CHECK(max_scaled_error(dx, dx_expected) <= kStoreRounding<T> + kBackwardTolerance);
  CHECK(max_scaled_error(dx, dx_f64) <= kStoreRounding<T> + kNativeBackwardTolerance);
  if (kEmulated) CHECK(same_bits(dx, dx_expected.cast(dtype_of<T>)));
  Tensor dx_again = nan_tensor(in_shape, dtype_of<T>);
  resize_bilinear_backward(dy.device, dx_again);
  CHECK(same_bits(dx_again, dx));  // deterministic: a gather, no atomics
}

}  // namespace

TEST_CASE_TEMPLATE("cuda bilinear upsampling: the PSP branches to 57, and odd non-square sizes", T, float, bf16) {
  check_resize<T>({1, 6, 6, 37}, 57, 57);  // ~120k outputs: many grid-stride iterations per thread
  check_resize<T>({3, 2, 2, 5}, 57, 57);
  check_resize<T>({1, 8, 8, 3}, 57, 57);
  check_resize<T>({3, 13, 11, 37}, 29, 23);
  check_resize<T>({3, 5, 7, 3}, 9, 9);
}

TEST_CASE_TEMPLATE("cuda bilinear resize from a single pixel broadcasts it", T, float, bf16) {
  check_resize<T>({3, 1, 1, 70}, 5, 5);
  check_resize<T>({1, 1, 1, 3}, 57, 57);  // one input element gathers all 57x57 outputs
  check_resize<T>({3, 1, 4, 37}, 6, 9);
}

TEST_CASE_TEMPLATE("cuda bilinear downsampling", T, float, bf16) {
  check_resize<T>({1, 57, 57, 3}, 6, 6);
  check_resize<T>({3, 7, 9, 5}, 3, 4);
  check_resize<T>({3, 9, 8, 70}, 1, 1);
  check_resize<T>({1, 12, 7, 37}, 5, 13);  // down in one axis, up in the other
}

TEST_CASE_TEMPLATE("cuda bilinear resize to the same size copies, forward and backward", T, float, bf16) {
  const Stored x(random_f32({3, 5, 7, 37}, 3), dtype_of<T>);
  Tensor y = nan_tensor(x.device.shape(), dtype_of<T>), dx = nan_tensor(x.device.shape(), dtype_of<T>);
  resize_bilinear_forward(x.device, y);
  CHECK(same_bits(y, x.device));
  resize_bilinear_backward(x.device, dx);
  CHECK(same_bits(dx, x.device));
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
    CHECK(same_bits(y, expected));

    Tensor dy = random_f32(expected.shape(), 5);
    dy.data<float>()[0] = inf;  // read with weight 0 by input index 1 of each axis
    dy.data<float>()[dy.numel() / 2] = std::numeric_limits<float>::quiet_NaN();
    dy.data<float>()[dy.numel() - 1] = -inf;
    Tensor dx_expected = Tensor::empty(x.shape());
    resize_bilinear_backward(dy, dx_expected);
    Tensor dx = nan_tensor(x.shape());
    resize_bilinear_backward(dy.to(gpu()), dx);
    CHECK(same_bits(dx, dx_expected));
  }
}
#endif

TEST_CASE("cuda resize rejects float64 with a clear message") {
  const Tensor x = Tensor::zeros({1, 5, 5, 3}, DType::F64, gpu());
  Tensor y = Tensor::zeros({1, 9, 9, 3}, DType::F64, gpu());
  CHECK_THROWS_WITH_AS(resize_bilinear_forward(x, y), doctest::Contains("float64 is CPU-only"), Error);
}
