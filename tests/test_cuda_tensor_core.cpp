// One-warp tests of the tensor-core and async-copy wrappers (kernels/cuda/ptx.h). Operands are
// small integers, so every product and sum is exact in float32 and any accumulation order gives
// the same bits: results are compared for equality. Expected values come from the PTX ISA's
// definitions computed here on the host. On a GPU this checks the hardware against the documented
// layouts; on the emulator it checks the emulator against the same documents.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>

#include "tensor/tensor.h"
#include "tests/cuda_tensor_core_kernels.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

namespace {

std::vector<float> small_integers(int count, int seed, int range) {
  std::vector<float> values(static_cast<std::size_t>(count));
  for (int i = 0; i < count; ++i) values[std::size_t(i)] = float((i * 7 + seed * 13) % (2 * range + 1) - range);
  return values;
}

std::vector<float> multiply_add(const std::vector<float>& a, const std::vector<float>& b, const std::vector<float>& c,
                                int k) {
  std::vector<float> d(16 * 8);
  for (int r = 0; r < 16; ++r)
    for (int n = 0; n < 8; ++n) {
      double sum = c[std::size_t(r * 8 + n)];
      for (int i = 0; i < k; ++i) sum += double(a[std::size_t(r * k + i)]) * b[std::size_t(i * 8 + n)];
      d[std::size_t(r * 8 + n)] = float(sum);
    }
  return d;
}

std::uint32_t float_bits(float value) {
  std::uint32_t bits;
  std::memcpy(&bits, &value, sizeof(bits));
  return bits;
}

// tf32 = f32 with a 10-bit mantissa; cvt.rna rounds to nearest, ties away from zero. Computed
// here from the significand in double, independently of the emulator's bit manipulation.
float round_to_tf32(float value) {
  if (value == 0.0f || std::isinf(value)) return value;
  int exponent;
  const double significand = std::frexp(std::abs(double(value)), &exponent);  // in [0.5, 1)
  const double rounded = std::floor(significand * 2048.0 + 0.5) / 2048.0;     // 11 significant bits
  return float(std::copysign(std::ldexp(rounded, exponent), double(value)));
}

}  // namespace

TEST_CASE("mma m16n8k8 tf32 follows the documented fragment layouts") {
  // Three probes: general small integers, B = identity (reveals A's layout), A = 0 (reveals C's).
  for (int probe = 0; probe < 3; ++probe) {
    CAPTURE(probe);
    std::vector<float> a = small_integers(16 * 8, 1, 7), b = small_integers(8 * 8, 2, 7), c = small_integers(16 * 8, 3, 50);
    if (probe == 1)
      for (int k = 0; k < 8; ++k)
        for (int n = 0; n < 8; ++n) b[std::size_t(k * 8 + n)] = k == n ? 1.0f : 0.0f;
    if (probe == 2) std::fill(a.begin(), a.end(), 0.0f);
    const Tensor ta = Tensor::from_vector(a, {16, 8}).to(gpu()), tb = Tensor::from_vector(b, {8, 8}).to(gpu());
    const Tensor tc = Tensor::from_vector(c, {16, 8}).to(gpu());
    Tensor d = nan_tensor({16, 8});
    mma_tf32_tile(ta.data<float>(), tb.data<float>(), tc.data<float>(), d.data<float>());
    CHECK(on_cpu(d).to_vector<float>() == multiply_add(a, b, c, 8));
  }
}

TEST_CASE("mma m16n8k16 bf16 follows the documented fragment layouts") {
  const std::vector<float> a = small_integers(16 * 16, 4, 9), b = small_integers(16 * 8, 5, 9);
  const std::vector<float> c = small_integers(16 * 8, 6, 100);
  auto as_bf16_bits = [](const std::vector<float>& values, const Shape& shape) {
    return Tensor::from_vector(values, shape).cast(DType::BF16).to(gpu());  // small integers: exact
  };
  const Tensor ta = as_bf16_bits(a, {16, 16}), tb = as_bf16_bits(b, {16, 8});
  const Tensor tc = Tensor::from_vector(c, {16, 8}).to(gpu());
  Tensor d = nan_tensor({16, 8});
  mma_bf16_tile(reinterpret_cast<const std::uint16_t*>(ta.data<bf16>()),
                reinterpret_cast<const std::uint16_t*>(tb.data<bf16>()), tc.data<float>(), d.data<float>());
  CHECK(on_cpu(d).to_vector<float>() == multiply_add(a, b, c, 16));
}

TEST_CASE("ldmatrix x1, x2, x4, with and without trans") {
  std::vector<std::int32_t> packed(128);  // 256 16-bit values as 128 int32 (the tensor API has no uint16)
  auto value = [](int j, int r, int c) { return std::uint16_t(1000 + 64 * j + 8 * r + c); };
  for (int j = 0; j < 4; ++j)
    for (int r = 0; r < 8; ++r)
      for (int c = 0; c < 8; c += 2)
        packed[std::size_t((j * 64 + r * 8 + c) / 2)] =
            std::int32_t(std::uint32_t(value(j, r, c)) | (std::uint32_t(value(j, r, c + 1)) << 16));
  const Tensor matrices = Tensor::from_vector(packed, {128}).to(gpu());
  for (int count : {1, 2, 4})
    for (bool transpose : {false, true}) {
      CAPTURE(count);
      CAPTURE(transpose);
      Tensor out = Tensor::zeros({32 * 4}, DType::I32, gpu());
      ldmatrix_probe(reinterpret_cast<const std::uint16_t*>(matrices.data<std::int32_t>()), count, transpose,
                     reinterpret_cast<std::uint32_t*>(out.data<std::int32_t>()));
      const std::vector<std::int32_t> got = on_cpu(out).to_vector<std::int32_t>();
      for (int lane = 0; lane < 32; ++lane)
        for (int j = 0; j < count; ++j) {
          const int quad = lane / 4, pair = 2 * (lane % 4);
          const std::uint16_t low = transpose ? value(j, pair, quad) : value(j, quad, pair);
          const std::uint16_t high = transpose ? value(j, pair + 1, quad) : value(j, quad, pair + 1);
          CHECK(std::uint32_t(got[std::size_t(lane * 4 + j)]) == (std::uint32_t(low) | (std::uint32_t(high) << 16)));
        }
    }
}

// The roundings of tf32 operands: cvt.rna.tf32.f32, and tf32_rounded_bits (kernels/cuda/tf32.h),
// which must agree with it in the 19 bits mma reads.
std::vector<float> tf32_rounding_inputs() {
  const float one = 1.0f, ulp11 = std::ldexp(1.0f, -11), ulp10 = std::ldexp(1.0f, -10);
  return {0.0f,
          -0.0f,
          one,
          one + ulp11,                          // a tie: away from zero, to 1 + 2^-10
          -(one + ulp11),                       // the negative tie
          one + ulp11 - std::ldexp(1.0f, -23),  // just below the tie: down
          one + ulp10 + ulp11,                  // a tie above an odd mantissa: away
          3.14159265f,
          -2.71828183f,
          1e-30f,
          6.5e4f,
          std::numeric_limits<float>::max(),  // rounds up into infinity
          std::numeric_limits<float>::infinity(),
          -std::numeric_limits<float>::infinity()};
}

TEST_CASE("cvt.rna.tf32.f32 rounds to nearest, ties away from zero") {
  const std::vector<float> inputs = tf32_rounding_inputs();
  const Tensor in = Tensor::from_vector(inputs, {std::int64_t(inputs.size())}).to(gpu());
  Tensor out = Tensor::zeros({std::int64_t(inputs.size())}, DType::I32, gpu());
  cvt_tf32_probe(in.data<float>(), reinterpret_cast<std::uint32_t*>(out.data<std::int32_t>()), int(inputs.size()));
  const std::vector<std::int32_t> got = on_cpu(out).to_vector<std::int32_t>();
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    CAPTURE(inputs[i]);
    CHECK(std::uint32_t(got[i]) == float_bits(round_to_tf32(inputs[i])));
  }
}

TEST_CASE("tf32_rounded_bits matches cvt.rna in the bits mma reads") {
  std::vector<float> inputs = tf32_rounding_inputs();
  inputs.push_back(std::numeric_limits<float>::quiet_NaN());
  const Tensor in = Tensor::from_vector(inputs, {std::int64_t(inputs.size())}).to(gpu());
  Tensor rounded = Tensor::zeros({std::int64_t(inputs.size())}, DType::I32, gpu());
  Tensor converted = Tensor::zeros({std::int64_t(inputs.size())}, DType::I32, gpu());
  tf32_rounded_bits_probe(in.data<float>(), reinterpret_cast<std::uint32_t*>(rounded.data<std::int32_t>()),
                          int(inputs.size()));
  cvt_tf32_probe(in.data<float>(), reinterpret_cast<std::uint32_t*>(converted.data<std::int32_t>()),
                 int(inputs.size()));
  const std::vector<std::int32_t> got = on_cpu(rounded).to_vector<std::int32_t>();
  const std::vector<std::int32_t> expected = on_cpu(converted).to_vector<std::int32_t>();
  constexpr std::uint32_t kTf32Bits = 0xFFFFE000u;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    CAPTURE(inputs[i]);
    CHECK((std::uint32_t(got[i]) & kTf32Bits) == (std::uint32_t(expected[i]) & kTf32Bits));
  }
}

TEST_CASE("cp.async copies 16 bytes and zero-fills past the source size") {
  std::vector<std::int32_t> source(32 * 4), sizes(32);
  for (std::size_t i = 0; i < source.size(); ++i) source[i] = std::int32_t(0x01010101u * std::uint32_t(i % 200 + 1));
  const int pattern[4] = {0, 4, 12, 16};
  for (int lane = 0; lane < 32; ++lane) sizes[std::size_t(lane)] = pattern[lane % 4];
  const Tensor tsource = Tensor::from_vector(source, {128}).to(gpu()),
               tsizes = Tensor::from_vector(sizes, {32}).to(gpu());
  Tensor out = Tensor::zeros({128}, DType::I32, gpu());
  cp_async_probe(reinterpret_cast<const unsigned char*>(tsource.data<std::int32_t>()), tsizes.data<std::int32_t>(),
                 reinterpret_cast<unsigned char*>(out.data<std::int32_t>()));
  const std::vector<std::int32_t> got = on_cpu(out).to_vector<std::int32_t>();
  for (int lane = 0; lane < 32; ++lane)
    for (int word = 0; word < 4; ++word) {
      const std::size_t i = std::size_t(lane * 4 + word);
      CHECK(got[i] == (4 * word < sizes[std::size_t(lane)] ? source[i] : 0));
    }
}

#ifdef PANS_SIMT_EMU
TEST_CASE("emulator: reading a cp.async destination before waiting sees poison") {
  std::vector<float> values(128, 2.5f);
  const Tensor source = Tensor::from_vector(values, {128}).to(gpu());
  Tensor out = Tensor::zeros({32}, DType::F32, gpu());
  cp_async_read_before_wait(source.data<float>(), out.data<float>());
  for (float v : on_cpu(out).to_vector<float>()) CHECK(std::isnan(v));
}
#endif
