#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>

#include "kernels/random.h"
#include "tensor/allocator.h"
#include "tensor/philox.h"
#include "tensor/tensor.h"

using namespace pans;

TEST_CASE("dtype sizes and names") {
  CHECK(dtype_size(DType::F32) == 4);
  CHECK(dtype_size(DType::BF16) == 2);
  CHECK(dtype_size(DType::F64) == 8);
  CHECK(dtype_size(DType::I32) == 4);
  CHECK(dtype_size(DType::U8) == 1);
  CHECK(std::string(dtype_name(DType::BF16)) == "bfloat16");
}

TEST_CASE("bfloat16 rounds to nearest even and keeps NaN") {
  CHECK(float_to_bf16(1.0f).bits == 0x3f80);
  // 1 + 2^-8 lies halfway between 1 and 1 + 2^-7: ties go to the even mantissa (1).
  CHECK(float_to_bf16(1.0f + std::ldexp(1.0f, -8)).bits == 0x3f80);
  // 1 + 3*2^-8 lies halfway between 1 + 2^-7 and 1 + 2^-6: ties go to even (1 + 2^-6).
  CHECK(float_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8)).bits == 0x3f82);
  CHECK(float_to_bf16(1.0f + std::ldexp(1.0f, -8) + std::ldexp(1.0f, -20)).bits == 0x3f81);
  CHECK(float_to_bf16(-2.5f).bits == 0xc020);
  CHECK(std::isnan(bf16_to_float(float_to_bf16(std::numeric_limits<float>::quiet_NaN()))));
  CHECK(std::isinf(bf16_to_float(float_to_bf16(std::numeric_limits<float>::max()))));
  CHECK(bf16_to_float(float_to_bf16(3.140625f)) == 3.140625f);  // exactly representable
}

TEST_CASE("tensor shape, strides, views and copies") {
  Tensor t = Tensor::from_vector<float>({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}, {2, 3, 2});
  CHECK(t.numel() == 12);
  CHECK(t.strides() == Shape{6, 2, 1});
  CHECK(t.dim(-1) == 2);
  CHECK(t.is_contiguous());

  Tensor middle = t.narrow(1, 1, 2);  // shares memory, not contiguous
  CHECK_FALSE(middle.is_contiguous());
  CHECK(middle.to_vector<float>() == std::vector<float>{2, 3, 4, 5, 8, 9, 10, 11});
  middle.data<float>()[0] = 42;  // writes through the view
  CHECK(t.to_vector<float>()[2] == 42);

  Tensor copy = t.clone();
  copy.data<float>()[0] = -1;
  CHECK(t.to_vector<float>()[0] == 0);

  Tensor batch_one = t.narrow(0, 1, 1);  // a batch slice stays contiguous
  CHECK(batch_one.is_contiguous());
  CHECK(batch_one.reshape({6}).to_vector<float>() == std::vector<float>{6, 7, 8, 9, 10, 11});

  Tensor target = Tensor::zeros({2, 2, 2});
  target.copy_from(middle);
  CHECK(target.to_vector<float>() == std::vector<float>{42, 3, 4, 5, 8, 9, 10, 11});
}

TEST_CASE("tensor casts between float32, float64 and bfloat16") {
  const Tensor t = Tensor::from_vector<double>({0.1, -2.0, 1e10}, {3});
  CHECK(t.cast(DType::F32).to_vector<float>() == std::vector<float>{0.1f, -2.0f, 1e10f});
  const Tensor b = t.cast(DType::BF16);
  CHECK(b.dtype() == DType::BF16);
  CHECK(b.cast(DType::F32).to_vector<float>()[1] == -2.0f);
}

TEST_CASE("tensor errors name the operation and the shapes") {
  CHECK_THROWS_WITH_AS(Tensor::from_vector<float>({1, 2, 3}, {2, 2}), doctest::Contains("3 values for shape [2,2]"),
                       Error);
  const Tensor t = Tensor::zeros({2, 3});
  CHECK_THROWS_WITH_AS(t.data<double>(), doctest::Contains("tensor [2,3] float32 cpu holds float32"), Error);
  CHECK_THROWS_WITH_AS(t.reshape({4}), doctest::Contains("[2,3] float32 cpu cannot become [4]"), Error);
  CHECK_THROWS_WITH_AS(t.narrow(1, 2, 2), doctest::Contains("[2, 4) outside axis 1"), Error);
  CHECK_THROWS_WITH_AS(parse_device("gpu"), doctest::Contains("device 'gpu'"), Error);
  CHECK(parse_device("cuda:3") == Device::cuda(3));
}

TEST_CASE("cpu allocator reports current and peak bytes") {
  Allocator& cpu = allocator_for(Device::cpu());
  cpu.reset_peak();
  const MemoryStats before = cpu.stats();
  {
    Tensor a = Tensor::empty({1000}, DType::F64);
    Tensor b = Tensor::empty({500}, DType::F32);
    CHECK(cpu.stats().current_bytes == before.current_bytes + 10000);
  }
  CHECK(cpu.stats().current_bytes == before.current_bytes);
  CHECK(cpu.stats().peak_bytes == before.current_bytes + 10000);
}

TEST_CASE("cpu allocator reuses freed blocks of a fitting size, 64-byte aligned") {
  // A training step frees and asks again for the same sizes: the second step must get the first's
  // memory back (no fresh pages from the system), and the stats must count the requests alone.
  Allocator& cpu = allocator_for(Device::cpu());
  const std::size_t bytes = std::size_t(3) << 20;  // above glibc's mmap threshold
  void* first = cpu.allocate(bytes);
  CHECK(reinterpret_cast<std::uintptr_t>(first) % 64 == 0);
  const MemoryStats held = cpu.stats();
  cpu.deallocate(first, bytes);
  CHECK(cpu.stats().current_bytes == held.current_bytes - bytes);
  void* again = cpu.allocate(bytes - 100);  // a slightly smaller request fits the same block
  CHECK(again == first);
  CHECK(cpu.stats().current_bytes == held.current_bytes - 100);
  void* larger = cpu.allocate(2 * bytes);  // must not be served by a block too small for it
  CHECK(larger != again);
  cpu.deallocate(larger, 2 * bytes);
  cpu.deallocate(again, bytes - 100);
  // A request far below a cached block's size does not pin that block: at most half is wasted.
  void* small = cpu.allocate(bytes / 4);
  CHECK(small != first);
  cpu.deallocate(small, bytes / 4);
}

TEST_CASE("philox4x32-10 known-answer vectors of Random123") {
  // Random123's kat_vectors: counter, key -> output.
  const PhiloxBlock zeros = philox4x32_10({{0, 0, 0, 0}}, 0, 0);
  CHECK(zeros.word[0] == 0x6627e8d5u);
  CHECK(zeros.word[1] == 0xe169c58du);
  CHECK(zeros.word[2] == 0xbc57ac4cu);
  CHECK(zeros.word[3] == 0x9b00dbd8u);
  const PhiloxBlock ones = philox4x32_10({{~0u, ~0u, ~0u, ~0u}}, ~0u, ~0u);
  CHECK(ones.word[0] == 0x408f276du);
  CHECK(ones.word[3] == 0x6d5451fdu);
  const PhiloxBlock pi =
      philox4x32_10({{0x243f6a88u, 0x85a308d3u, 0x13198a2eu, 0x03707344u}}, 0xa4093822u, 0x299f31d0u);
  CHECK(pi.word[0] == 0xd16cfe09u);
  CHECK(pi.word[1] == 0x94fdccebu);
  CHECK(pi.word[2] == 0x5001e420u);
  CHECK(pi.word[3] == 0x24126ea1u);
}

TEST_CASE("random fills are a function of (seed, stream, index)") {
  Tensor a = Tensor::empty({1000}), b = Tensor::empty({1000}), c = Tensor::empty({1000});
  fill_uniform(a, 7, 0, -1, 1);
  fill_uniform(b, 7, 0, -1, 1);
  fill_uniform(c, 7, 1, -1, 1);
  CHECK(a.to_vector<float>() == b.to_vector<float>());
  CHECK(a.to_vector<float>() != c.to_vector<float>());
  // The first 10 draws of a longer fill are the draws of a 10-element fill.
  Tensor prefix = Tensor::empty({10});
  fill_uniform(prefix, 7, 0, -1, 1);
  CHECK(prefix.to_vector<float>() == std::vector<float>(a.data<float>(), a.data<float>() + 10));

  Tensor n = Tensor::empty({20000}, DType::F64);
  fill_normal(n, 3, 0, 2.0, 0.5);
  double sum = 0, squares = 0;
  for (double v : n.to_vector<double>()) {
    sum += v;
    squares += v * v;
  }
  const double mean = sum / 20000, variance = squares / 20000 - mean * mean;
  // Standard errors: 0.5/sqrt(20000) = 0.0035 for the mean, about 0.0025 for the variance 0.25.
  CHECK(std::abs(mean - 2.0) < 0.02);
  CHECK(std::abs(variance - 0.25) < 0.015);
  for (float v : a.to_vector<float>()) CHECK((v >= -1 && v < 1));
}
