#include "data/resize.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "tensor/error.h"

namespace pans {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's PRECISION_BITS for 8-bit images

// The taps of one output index along one axis: source range [first, first + weights.size()).
struct FilterTaps {
  std::int64_t first;
  std::vector<std::int32_t> weights;  // fixed point, 1.0 = 1 << kPrecisionBits
};

double triangle(double x) {
  x = std::abs(x);
  return x < 1.0 ? 1.0 - x : 0.0;
}

// Pillow's precompute_coeffs + normalize_coeffs_8bpc for the bilinear filter (support 1).
std::vector<FilterTaps> antialiased_taps(std::int64_t in_size, std::int64_t out_size) {
  const double scale = double(in_size) / double(out_size);
  const double filter_scale = std::max(scale, 1.0);
  const double support = 1.0 * filter_scale;
  const double inverse_filter_scale = 1.0 / filter_scale;  // Pillow multiplies by it; dividing rounds differently
  std::vector<FilterTaps> taps(static_cast<std::size_t>(out_size));
  for (std::int64_t out = 0; out < out_size; ++out) {
    const double center = (double(out) + 0.5) * scale;
    const std::int64_t first = std::max<std::int64_t>(std::int64_t(center - support + 0.5), 0);
    const std::int64_t last = std::min<std::int64_t>(std::int64_t(center + support + 0.5), in_size);
    std::vector<double> weights;
    double total = 0.0;
    for (std::int64_t x = first; x < last; ++x) {
      weights.push_back(triangle((double(x) - center + 0.5) * inverse_filter_scale));
      total += weights.back();
    }
    FilterTaps& tap = taps[std::size_t(out)];
    tap.first = first;
    for (double weight : weights) {
      const double normalised = total != 0.0 ? weight / total : weight;
      const double fixed = normalised * double(1 << kPrecisionBits);
      tap.weights.push_back(std::int32_t(normalised < 0 ? fixed - 0.5 : fixed + 0.5));
    }
  }
  return taps;
}

std::uint8_t clip_fixed_point(std::int32_t sum) {
  if (sum <= 0) return 0;
  if (sum >= (255 << kPrecisionBits)) return 255;
  return std::uint8_t(sum >> kPrecisionBits);
}

// The horizontal pass (Pillow's ImagingResampleHorizontal_8bpc); resample_height is its transpose.
Image resample_width(const Image& in, std::int64_t out_width) {
  const std::vector<FilterTaps> taps = antialiased_taps(in.width, out_width);
  Image out(in.height, out_width, in.channels);
  for (std::int64_t y = 0; y < in.height; ++y)
    for (std::int64_t x = 0; x < out_width; ++x) {
      const FilterTaps& tap = taps[std::size_t(x)];
      for (std::int64_t c = 0; c < in.channels; ++c) {
        std::int32_t sum = 1 << (kPrecisionBits - 1);
        for (std::size_t k = 0; k < tap.weights.size(); ++k)
          sum += std::int32_t(in.at(y, tap.first + std::int64_t(k), c)) * tap.weights[k];
        out.at(y, x, c) = clip_fixed_point(sum);
      }
    }
  return out;
}

Image resample_height(const Image& in, std::int64_t out_height) {
  const std::vector<FilterTaps> taps = antialiased_taps(in.height, out_height);
  Image out(out_height, in.width, in.channels);
  for (std::int64_t y = 0; y < out_height; ++y) {
    const FilterTaps& tap = taps[std::size_t(y)];
    for (std::int64_t x = 0; x < in.width; ++x)
      for (std::int64_t c = 0; c < in.channels; ++c) {
        std::int32_t sum = 1 << (kPrecisionBits - 1);
        for (std::size_t k = 0; k < tap.weights.size(); ++k)
          sum += std::int32_t(in.at(tap.first + std::int64_t(k), x, c)) * tap.weights[k];
        out.at(y, x, c) = clip_fixed_point(sum);
      }
  }
  return out;
}

// Pillow's ImagingScaleAffine: the source position starts at half a step and grows by one step per
// output index; adding (rather than multiplying) decides which side an exact boundary falls on.
std::vector<std::int64_t> nearest_sources(std::int64_t in_size, std::int64_t out_size) {
  const double step = double(in_size) / double(out_size);
  std::vector<std::int64_t> sources(static_cast<std::size_t>(out_size));
  double position = step * 0.5;
  for (std::int64_t out = 0; out < out_size; ++out) {
    sources[std::size_t(out)] = std::min(std::int64_t(position), in_size - 1);
    position += step;
  }
  return sources;
}

void check_sizes(const char* op, const Image& image, std::int64_t out_height, std::int64_t out_width) {
  PANS_CHECK(image.height > 0 && image.width > 0 && out_height > 0 && out_width > 0, op, ": cannot resize ",
             image.height, "x", image.width, " to ", out_height, "x", out_width);
}

}  // namespace

Image resize_antialiased_bilinear(const Image& image, std::int64_t out_height, std::int64_t out_width) {
  check_sizes("resize_antialiased_bilinear", image, out_height, out_width);
  // Pillow skips a pass whose size does not change (its taps would be the identity anyway).
  const Image horizontal = out_width == image.width ? image : resample_width(image, out_width);
  return out_height == image.height ? horizontal : resample_height(horizontal, out_height);
}

Image resize_nearest(const Image& image, std::int64_t out_height, std::int64_t out_width) {
  check_sizes("resize_nearest", image, out_height, out_width);
  const std::vector<std::int64_t> rows = nearest_sources(image.height, out_height);
  const std::vector<std::int64_t> columns = nearest_sources(image.width, out_width);
  Image out(out_height, out_width, image.channels);
  for (std::int64_t y = 0; y < out_height; ++y)
    for (std::int64_t x = 0; x < out_width; ++x)
      for (std::int64_t c = 0; c < image.channels; ++c)
        out.at(y, x, c) = image.at(rows[std::size_t(y)], columns[std::size_t(x)], c);
  return out;
}

}  // namespace pans
