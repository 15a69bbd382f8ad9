// An 8-bit image in host memory, row-major {height, width, channels}: channels = 3 for RGB
// photographs, 1 for label maps. The data pipeline decodes, resizes and crops these before it turns
// them into float32 tensors, so they stay plain byte buffers with no device or dtype.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace pans {

struct Image {
  std::int64_t height = 0, width = 0, channels = 0;
  std::vector<std::uint8_t> pixels;

  Image() = default;
  Image(std::int64_t height, std::int64_t width, std::int64_t channels, std::uint8_t fill = 0)
      : height(height), width(width), channels(channels), pixels(std::size_t(height * width * channels), fill) {}

  std::size_t index(std::int64_t y, std::int64_t x, std::int64_t c = 0) const {
    return std::size_t((y * width + x) * channels + c);
  }
  std::uint8_t& at(std::int64_t y, std::int64_t x, std::int64_t c = 0) { return pixels[index(y, x, c)]; }
  std::uint8_t at(std::int64_t y, std::int64_t x, std::int64_t c = 0) const { return pixels[index(y, x, c)]; }
  bool same_size(const Image& other) const { return height == other.height && width == other.width; }
};

}  // namespace pans
