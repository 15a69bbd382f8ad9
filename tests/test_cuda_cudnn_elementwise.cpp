// The elementwise kernels of the cuDNN paths (kernels/cuda/cudnn_elementwise.h) against their
// definitions computed on the host. Tolerance: none. Each output element is one float32 operation
// (a multiply by the slope, an add) or one round-to-nearest-even conversion, which the host performs
// identically, so results must match bit for bit. Counts of 1003 elements leave a tail after the
// 16-byte vectors; inputs hold ±0, halfway cases of the bf16 rounding and a subnormal (and, for the
// conversion, infinities and NaN).
#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/cuda/cudnn_elementwise.h"
#include "tests/cuda_storage_types.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

namespace {

constexpr std::int64_t kCount = 1003;
constexpr float kSlope = 0.01f;

// Uniform values in [-4, 4) with special values planted at the start: ±0, halfway cases of the
// bf16 rounding and a subnormal always; infinities and NaN only where no arithmetic touches them
// (a GPU returns its canonical NaN from arithmetic, the host propagates the operand's payload).
std::vector<float> test_values(std::uint64_t stream, bool with_non_finite = false) {
  std::vector<float> values = uniform_f32({kCount}, stream, -4.0, 4.0, 99).to_vector<float>();
  std::vector<float> specials = {0.0f, -0.0f, 1.00390625f /* 1 + 2^-8: halfway, rounds to even 1 */,
                                 1.01171875f /* 1 + 3*2^-8: halfway, rounds up */, -1e-40f /* subnormal */};
  if (with_non_finite)
    for (const float v : {std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                          std::numeric_limits<float>::quiet_NaN()})
      specials.push_back(v);
  for (std::size_t i = 0; i < specials.size(); ++i) values[i] = specials[i];
  return values;
}

// `values` stored as T on the GPU (bfloat16 rounded to nearest even on the host).
template <class T>
Tensor on_gpu(const std::vector<float>& values) {
  return Tensor::from_vector(values, {kCount}).cast(dtype_of<T>).to(gpu());
}

float leaky(float v) { return v >= 0.0f ? v : v * kSlope; }
float leaky_grad(float z, float dz) { return z > 0.0f ? dz : dz * kSlope; }

}  // namespace

TEST_CASE("cudnn elementwise: float32 to bf16 rounds to nearest even, as the host does") {
  const std::vector<float> values = test_values(1, true);
  const Tensor src = on_gpu<float>(values);
  Tensor dst = nan_tensor({kCount}, DType::BF16);
  cuda::convert_float_to_bf16(src.data<float>(), dst.data<bf16>(), kCount);
  CHECK(same_bits(dst, on_gpu<bf16>(values)));
}

TEST_CASE("cudnn elementwise: bf16 accumulated into float32") {
  const std::vector<float> addends = test_values(2), start = test_values(3);
  const Tensor src = on_gpu<bf16>(addends);
  Tensor dst = on_gpu<float>(start);
  cuda::accumulate_bf16_into_float(src.data<bf16>(), dst.data<float>(), kCount);
  std::vector<float> expected(start);
  for (std::size_t i = 0; i < expected.size(); ++i) expected[i] += bf16_to_float(float_to_bf16(addends[i]));
  CHECK(same_bits(dst, Tensor::from_vector(expected, {kCount})));
}

TEST_CASE_TEMPLATE("cudnn elementwise: leaky ReLU forward and backward, in place too", T, float, bf16) {
  // float32 arithmetic on the stored values, one rounding when stored.
  const std::vector<float> x = test_values(4), dz = test_values(5);
  std::vector<float> y, dx;
  for (std::size_t i = 0; i < x.size(); ++i) {
    y.push_back(stored_value<T>(leaky(stored_value<T>(x[i]))));
    dx.push_back(stored_value<T>(leaky_grad(y[i], stored_value<T>(dz[i]))));
  }
  SUBCASE("separate outputs") {
    const Tensor gx = on_gpu<T>(x), gdz = on_gpu<T>(dz);
    Tensor gy = nan_tensor({kCount}, dtype_of<T>), gdx = nan_tensor({kCount}, dtype_of<T>);
    cuda::leaky_relu_forward(gx.data<T>(), gy.data<T>(), kCount, kSlope);
    CHECK(same_bits(gy, on_gpu<T>(y)));
    cuda::leaky_relu_backward(gy.data<T>(), gdz.data<T>(), gdx.data<T>(), kCount, kSlope);
    CHECK(same_bits(gdx, on_gpu<T>(dx)));
  }
  SUBCASE("outputs over their inputs") {
    Tensor g = on_gpu<T>(x), gd = on_gpu<T>(dz);
    cuda::leaky_relu_forward(g.data<T>(), g.data<T>(), kCount, kSlope);
    CHECK(same_bits(g, on_gpu<T>(y)));
    cuda::leaky_relu_backward(g.data<T>(), gd.data<T>(), gd.data<T>(), kCount, kSlope);
    CHECK(same_bits(gd, on_gpu<T>(dx)));
  }
}

TEST_CASE("cudnn elementwise: InPlace-ABN's scale |w| + eps and dw += sign(w) dscale, sign(0) = +1") {
  const float eps = 1e-5f;
  const std::vector<float> w = test_values(7), dscale = test_values(8), dw_start = test_values(9);
  std::vector<float> scale, dw(dw_start);
  for (std::size_t i = 0; i < w.size(); ++i) {
    scale.push_back(std::fabs(w[i]) + eps);
    dw[i] += w[i] < 0.0f ? -dscale[i] : dscale[i];
  }
  const Tensor gw = on_gpu<float>(w), gdscale = on_gpu<float>(dscale);
  Tensor gscale = nan_tensor({kCount}), gdw = on_gpu<float>(dw_start);
  cuda::iabn_scale_from_weight(gw.data<float>(), gscale.data<float>(), kCount, eps);
  CHECK(same_bits(gscale, Tensor::from_vector(scale, {kCount})));
  cuda::accumulate_weight_gradient_from_scale(gw.data<float>(), gdscale.data<float>(), gdw.data<float>(), kCount);
  CHECK(same_bits(gdw, Tensor::from_vector(dw, {kCount})));
}

TEST_CASE("cudnn elementwise: a pointer off the 16-byte grid is refused by name") {
  const Tensor src = on_gpu<float>(test_values(6));
  Tensor dst = nan_tensor({kCount});
  CHECK_THROWS_WITH_AS(cuda::leaky_relu_forward(src.data<float>() + 1, dst.data<float>(), kCount - 1, kSlope),
                       doctest::Contains("leaky_relu_forward: pointer"), Error);
}
