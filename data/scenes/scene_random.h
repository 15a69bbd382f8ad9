// Draws for the scene generator: a sequential reader of one Philox stream (each image, town and
// layout owns a stream, so images are independent of each other and of the thread that renders
// them), and hash-based value noise for textures that must not depend on drawing order.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "tensor/philox.h"

namespace pans::scenes {

class SceneRandom {
 public:
  SceneRandom(std::uint64_t seed, std::uint64_t stream) : seed_(seed), stream_(stream) {}

  double uniform() { return double(philox_uniform(seed_, stream_, counter_++)); }
  double uniform(double low, double high) { return low + (high - low) * uniform(); }
  int integer(int low, int high) {  // inclusive
    return low + std::min(int(uniform() * double(high - low + 1)), high - low);
  }
  bool chance(double probability) { return uniform() < probability; }
  // A fresh 32-bit seed for a noise texture.
  std::uint32_t noise_seed() { return philox_u32(seed_, stream_, counter_++); }
  template <class T>
  const T& pick(const std::vector<T>& options) {
    return options[std::size_t(integer(0, int(options.size()) - 1))];
  }

 private:
  std::uint64_t seed_, stream_, counter_ = 0;
};

// A well-mixed 32-bit hash of a lattice point (the "lowbias32" finaliser).
inline std::uint32_t lattice_hash(std::int32_t x, std::int32_t y, std::uint32_t seed) {
  std::uint32_t h = seed ^ (std::uint32_t(x) * 0x8da6b343u) ^ (std::uint32_t(y) * 0xd8163841u);
  h ^= h >> 16;
  h *= 0x7feb352du;
  h ^= h >> 15;
  h *= 0x846ca68bu;
  h ^= h >> 16;
  return h;
}

inline float lattice_value(std::int32_t x, std::int32_t y, std::uint32_t seed) {
  return float(lattice_hash(x, y, seed) >> 8) * (1.0f / 16777216.0f);
}

// Smoothly interpolated lattice noise in [0, 1], one lattice cell per unit.
inline float value_noise(float x, float y, std::uint32_t seed) {
  const float fx = std::floor(x), fy = std::floor(y);
  const std::int32_t ix = std::int32_t(fx), iy = std::int32_t(fy);
  const float tx = x - fx, ty = y - fy;
  const float sx = tx * tx * (3 - 2 * tx), sy = ty * ty * (3 - 2 * ty);
  const float top = lattice_value(ix, iy, seed) + sx * (lattice_value(ix + 1, iy, seed) - lattice_value(ix, iy, seed));
  const float bottom =
      lattice_value(ix, iy + 1, seed) + sx * (lattice_value(ix + 1, iy + 1, seed) - lattice_value(ix, iy + 1, seed));
  return top + sy * (bottom - top);
}

// Three octaves of value noise, in [0, 1].
inline float fractal_noise(float x, float y, std::uint32_t seed) {
  return (4 * value_noise(x, y, seed) + 2 * value_noise(2 * x, 2 * y, seed + 1) + value_noise(4 * x, 4 * y, seed + 2)) /
         7;
}

}  // namespace pans::scenes
