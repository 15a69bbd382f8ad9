// Dropout2d on CUDA (a GPU or the emulator) against the CPU oracle.
//
// Tolerance: none. The mask is a pure function of (seed, stream, n*C + c) compared with p in double
// on both sides, and applying it is one float32 multiply per element on both sides, so masks,
// outputs and gradients must equal the CPU's bit for bit.
//
// bfloat16 activations (the mask stays float32): the kernel multiplies the widened bfloat16 value
// by the float32 mask and rounds the product once to bfloat16, so its bytes must equal the
// float32 oracle's product on the rounded inputs, rounded to bfloat16 on the host. Against the
// float64 product the error is at most 2^-24 (float32 product) + 2^-8 (bfloat16 store: 8
// significant bits) relative.
//
// The checks of applying the mask run for both storage types; with float32 the product is the
// oracle's, within 2^-24 of the float64 product.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include "kernels/cuda/dropout.h"
#include "kernels/dropout.h"
#include "kernels/random.h"
#include "tensor/philox.h"
#include "tests/cuda_storage_types.h"
#include "tests/cuda_test_util.h"

using namespace pans;
using namespace pans::test;

namespace {

Tensor uniform(const Shape& shape, std::uint64_t stream, double low, double high) {
  return uniform_f32(shape, stream, low, high, 1234);
}

Tensor cpu_mask(std::int64_t batch, std::int64_t channels, double p, std::uint64_t seed, std::uint64_t stream) {
  Tensor mask = Tensor::empty({batch, channels});
  dropout2d_mask(mask, p, seed, stream);
  return mask;
}

Tensor gpu_mask(std::int64_t batch, std::int64_t channels, double p, std::uint64_t seed, std::uint64_t stream) {
  Tensor mask = nan_tensor({batch, channels});
  dropout2d_mask(mask, p, seed, stream);
  return mask;
}

Tensor cpu_apply(const Tensor& x, const Tensor& mask) {
  Tensor y = Tensor::empty(x.shape());
  dropout2d_forward(x, mask, y);
  return y;
}

struct SeedStream {
  std::uint64_t seed, stream;
};
const std::vector<SeedStream> kSeedStreams = {{42, 7}, {0xDEADBEEFCAFEF00Dull, 0}, {1, (1ull << 40) + 3}};

// Shapes with batch 1 and 3, channel counts off multiples of 4 and 32, and 20349 elements (more
// than the emulator's 4 x 256 threads take in one pass of the grid-stride loop).
const std::vector<Shape> kShapes = {{1, 1, 1, 1}, {1, 3, 5, 7}, {3, 4, 5, 33}, {2, 9, 11, 37}, {3, 17, 19, 21}};

}  // namespace

TEST_CASE("cuda dropout2d mask draws the cpu's mask bit for bit") {
  const std::vector<std::pair<std::int64_t, std::int64_t>> sizes = {{1, 1}, {3, 5}, {2, 37}, {3, 129}, {64, 129}};
  for (const auto& [batch, channels] : sizes)
    for (double p : {0.0, 0.1, 0.5, 0.9})
      for (const SeedStream& s : kSeedStreams) {
        CAPTURE(batch);
        CAPTURE(channels);
        CAPTURE(p);
        CAPTURE(s.seed);
        CAPTURE(s.stream);
        const Tensor expected = cpu_mask(batch, channels, p, s.seed, s.stream);
        const Tensor mask = gpu_mask(batch, channels, p, s.seed, s.stream);
        CHECK(same_bits(mask, expected));
        const float keep = float(1.0 / (1.0 - p));
        bool zero_or_keep = true;
        for (float value : on_cpu(mask).to_vector<float>())
          zero_or_keep = zero_or_keep && (value == 0.0f || value == keep);
        CHECK(zero_or_keep);
      }
}

TEST_CASE("cuda dropout2d mask compares the draw with p in double") {
  // p just above draw k, by far less than a float32 ulp: in double draw k is below p (dropped);
  // a kernel that rounded p to float32 would compare u_k < u_k and keep it. At p = u_k exactly the
  // channel is kept.
  const std::uint64_t seed = 42, stream = 7;
  const std::int64_t batch = 4, channels = 50;
  for (std::int64_t k : {0, 17, 199}) {
    CAPTURE(k);
    const double u = double(philox_uniform(seed, stream, std::uint64_t(k)));
    REQUIRE(u > 0.0);
    REQUIRE(float(u + 0x1p-40) == float(u));
    const Tensor above = gpu_mask(batch, channels, u + 0x1p-40, seed, stream);
    CHECK(on_cpu(above).to_vector<float>()[std::size_t(k)] == 0.0f);
    CHECK(same_bits(above, cpu_mask(batch, channels, u + 0x1p-40, seed, stream)));
    const Tensor at = gpu_mask(batch, channels, u, seed, stream);
    CHECK(on_cpu(at).to_vector<float>()[std::size_t(k)] != 0.0f);
    CHECK(same_bits(at, cpu_mask(batch, channels, u, seed, stream)));
  }
}

TEST_CASE_TEMPLATE("cuda dropout2d forward and backward drop whole channels and scale kept ones exactly", T, float,
                   bf16) {
  for (const Shape& shape : kShapes)
    for (double p : {0.3, 0.7}) {
      CAPTURE(shape_str(shape));
      CAPTURE(p);
      const std::int64_t batch = shape[0], pixels = shape[1] * shape[2], channels = shape[3];
      const Tensor mask = cpu_mask(batch, channels, p, 42, 7);
      const Tensor mask_gpu = gpu_mask(batch, channels, p, 42, 7);
      REQUIRE(same_bits(mask_gpu, mask));

      // Inputs in [0.5, 1.5): a zero output can only come from the mask.
      const Stored x(uniform(shape, 1, 0.5, 1.5), dtype_of<T>);
      const Tensor expected = cpu_apply(x.f32, mask).cast(dtype_of<T>);
      Tensor y = nan_tensor(shape, dtype_of<T>);
      dropout2d_forward(x.device, mask_gpu, y);
      CHECK(same_bits(y, expected));
      Tensor expected_f64 = Tensor::empty(shape, DType::F64);
      dropout2d_forward(x.f64, mask.cast(DType::F64), expected_f64);
      CHECK(max_scaled_error(y, expected_f64) <= kStoreRounding<T> + 0x1p-23);
      // Restated from the definition: dropped channels exactly 0, kept ones x * float32(1/(1-p)),
      // i.e. x/(1-p) with the scale rounded once to float32 (as PyTorch's noise tensor holds it),
      // the product stored as T.
      const std::vector<float> input = x.f32.to_vector<float>();
      const std::vector<float> output = on_cpu(y).cast(DType::F32).to_vector<float>();
      const float keep = float(1.0 / (1.0 - p));
      bool exact = true;
      for (std::int64_t n = 0; n < batch; ++n)
        for (std::int64_t c = 0; c < channels; ++c) {
          const bool dropped = double(philox_uniform(42, 7, std::uint64_t(n * channels + c))) < p;
          for (std::int64_t pixel = 0; pixel < pixels; ++pixel) {
            const std::size_t i = std::size_t((n * pixels + pixel) * channels + c);
            exact = exact && output[i] == (dropped ? 0.0f : stored_value<T>(input[i] * keep));
          }
        }
      CHECK(exact);

      const Stored dy(uniform(shape, 2, -1.0, 1.0), dtype_of<T>);
      const Tensor expected_gradient = cpu_apply(dy.f32, mask).cast(dtype_of<T>);
      Tensor dx = nan_tensor(shape, dtype_of<T>);
      dropout2d_backward(dy.device, mask_gpu, dx);
      CHECK(same_bits(dx, expected_gradient));

      Tensor in_place = x.device.clone();
      dropout2d_forward(in_place, mask_gpu, in_place);
      CHECK(same_bits(in_place, expected));
      Tensor gradient_in_place = dy.device.clone();
      dropout2d_backward(gradient_in_place, mask_gpu, gradient_in_place);
      CHECK(same_bits(gradient_in_place, expected_gradient));
    }
}

TEST_CASE("cuda dropout2d apply kernel with 32-bit and 64-bit index arithmetic") {
  // The public ops take 32-bit arithmetic below 2^31 elements; 64-bit is only reachable beyond
  // that (8 GiB of float32), so both are run here through the launcher on a small shape.
  CHECK(cuda::narrowest_dropout2d_index(INT32_MAX) == cuda::Dropout2dIndex::Bits32);
  CHECK(cuda::narrowest_dropout2d_index(std::int64_t(INT32_MAX) + 1) == cuda::Dropout2dIndex::Bits64);
  const Shape shape = {3, 9, 11, 37};
  const Tensor mask = cpu_mask(3, 37, 0.5, 42, 7), x = uniform(shape, 3, -1.0, 1.0);
  const Tensor mask_gpu = mask.to(gpu()), x_gpu = x.to(gpu());
  for (cuda::Dropout2dIndex index : {cuda::Dropout2dIndex::Bits32, cuda::Dropout2dIndex::Bits64}) {
    CAPTURE(int(index));
    Tensor y = nan_tensor(shape);
    cuda::dropout2d_apply(3, 9 * 11, 37, x_gpu.data<float>(), mask_gpu.data<float>(), y.data<float>(), index);
    CHECK(same_bits(y, cpu_apply(x, mask)));
  }
}

TEST_CASE("cuda dropout2d keeps the mask float32 beside bfloat16 activations") {
  const Tensor x = Tensor::zeros({2, 4, 4, 3}, DType::BF16, gpu());
  Tensor y = Tensor::zeros({2, 4, 4, 3}, DType::BF16, gpu());
  for (DType mask_dtype : {DType::BF16, DType::F64}) {
    Tensor mask = Tensor::zeros({2, 3}, mask_dtype, gpu());
    CAPTURE(dtype_name(mask_dtype));
    CHECK_THROWS_WITH_AS(dropout2d_forward(x, mask, y),
                         doctest::Contains("mask must be float32 beside bfloat16 activations"), Error);
  }
  Tensor bf16_mask = Tensor::zeros({2, 3}, DType::BF16, gpu());
  CHECK_THROWS_WITH_AS(dropout2d_mask(bf16_mask, 0.5, 42, 7),
                       doctest::Contains("dropout2d_mask has no bfloat16 kernel"), Error);
}

TEST_CASE("cuda dropout2d takes float32 only") {
  Tensor mask = Tensor::zeros({2, 3}, DType::F64, gpu());
  CHECK_THROWS_WITH_AS(dropout2d_mask(mask, 0.5, 42, 7),
                       doctest::Contains("float64 is CPU-only; CUDA kernels take float32"), Error);
  const Tensor x = Tensor::zeros({2, 4, 4, 3}, DType::F64, gpu());
  Tensor y = Tensor::zeros({2, 4, 4, 3}, DType::F64, gpu());
  CHECK_THROWS_WITH_AS(dropout2d_forward(x, mask, y),
                       doctest::Contains("float64 is CPU-only; CUDA kernels take float32"), Error);
}
