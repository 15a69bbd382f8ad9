// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC'11): a
// counter-based generator. Number i of stream (seed, stream) is a pure function of
// (seed, stream, i), so a CPU loop and a CUDA kernel with any thread mapping draw identical values.
//
// Layout: the 128-bit counter is {i/4 low, i/4 high, stream low, stream high}, the 64-bit key is the
// seed, and draw i is word i%4 of that block.
#pragma once

#include <cmath>
#include <cstdint>

#include "tensor/host_device.h"

namespace pans {

struct PhiloxBlock {
  std::uint32_t word[4];
};

PANS_HOST_DEVICE inline PhiloxBlock philox4x32_10(PhiloxBlock counter, std::uint32_t key0, std::uint32_t key1) {
  constexpr std::uint32_t kMultiplier0 = 0xD2511F53u, kMultiplier1 = 0xCD9E8D57u;
  constexpr std::uint32_t kWeyl0 = 0x9E3779B9u, kWeyl1 = 0xBB67AE85u;  // golden ratio, sqrt(3) - 1
  for (int round = 0; round < 10; ++round) {
    if (round > 0) {
      key0 += kWeyl0;
      key1 += kWeyl1;
    }
    const std::uint64_t product0 = std::uint64_t(kMultiplier0) * counter.word[0];
    const std::uint64_t product1 = std::uint64_t(kMultiplier1) * counter.word[2];
    const PhiloxBlock next = {{std::uint32_t(product1 >> 32) ^ counter.word[1] ^ key0, std::uint32_t(product1),
                               std::uint32_t(product0 >> 32) ^ counter.word[3] ^ key1, std::uint32_t(product0)}};
    counter = next;
  }
  return counter;
}

// Draws i..i+3 of stream (seed, stream); i must be a multiple of 4.
PANS_HOST_DEVICE inline PhiloxBlock philox_block(std::uint64_t seed, std::uint64_t stream, std::uint64_t i) {
  const std::uint64_t block = i / 4;
  const PhiloxBlock counter = {
      {std::uint32_t(block), std::uint32_t(block >> 32), std::uint32_t(stream), std::uint32_t(stream >> 32)}};
  return philox4x32_10(counter, std::uint32_t(seed), std::uint32_t(seed >> 32));
}

PANS_HOST_DEVICE inline std::uint32_t philox_u32(std::uint64_t seed, std::uint64_t stream, std::uint64_t i) {
  return philox_block(seed, stream, i & ~std::uint64_t(3)).word[i & 3];
}

// Uniform in [0, 1) with 24 random bits: every value is exact in float32.
PANS_HOST_DEVICE inline float philox_uniform(std::uint64_t seed, std::uint64_t stream, std::uint64_t i) {
  return float(philox_u32(seed, stream, i) >> 8) * (1.0f / 16777216.0f);
}

}  // namespace pans

namespace pans {

// Standard normal by Box-Muller from draws 2i and 2i+1 (the cosine branch only, so draw i of a
// normal stream depends on nothing but i). The first uniform is shifted into (0, 1] for the log.
PANS_HOST_DEVICE inline float philox_normal(std::uint64_t seed, std::uint64_t stream, std::uint64_t i) {
  const float u1 = float((philox_u32(seed, stream, 2 * i) >> 8) + 1u) * (1.0f / 16777216.0f);
  const float u2 = philox_uniform(seed, stream, 2 * i + 1);
  return sqrtf(-2.0f * logf(u1)) * cosf(6.28318530717958647692f * u2);
}

}  // namespace pans

namespace pans {

// Maps a draw onto [low, high) / N(mean, stddev). A fused multiply-add on both sides: nvcc would
// contract a*b+c into an fma anyway, and the host's std::fma rounds identically, so CPU and GPU agree.
PANS_HOST_DEVICE inline double scale_uniform(float u, double low, double high) {
  return fma(high - low, double(u), low);
}
PANS_HOST_DEVICE inline double scale_normal(float z, double mean, double stddev) {
  return fma(stddev, double(z), mean);
}

}  // namespace pans
