#include "eval/visualize.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <iterator>

namespace pans {
namespace {

// matplotlib's inferno at t = 0, 0.1, ..., 1 (#000004, #160B39, ..., #FCFFA4).
constexpr streethazards::Rgb kInfernoStops[] = {
    {0, 0, 4},     {22, 11, 57},   {66, 10, 104},  {106, 23, 110}, {147, 38, 103},  {188, 55, 84},
    {221, 81, 58}, {243, 120, 25}, {252, 165, 10}, {246, 215, 70}, {252, 255, 164},
};
constexpr int kInfernoIntervals = int(std::size(kInfernoStops)) - 1;

std::uint8_t mix(std::uint8_t a, std::uint8_t b, double weight_b) {
  return std::uint8_t(std::lround(double(a) + (double(b) - double(a)) * weight_b));
}

}  // namespace

Image colorize_segmentation(const Tensor& class_ids) {
  PANS_CHECK(class_ids.ndim() == 2 && class_ids.dtype() == DType::U8 && class_ids.device().is_cpu(),
             "colorize_segmentation: ", class_ids.describe("class_ids"), ", expected uint8 {H,W} on the cpu");
  Image ids(class_ids.dim(0), class_ids.dim(1), 1);
  const Tensor dense = class_ids.is_contiguous() ? class_ids : class_ids.clone();
  std::memcpy(ids.pixels.data(), dense.data<std::uint8_t>(), ids.pixels.size());
  return streethazards::colorize(ids);
}

Image colorize_labels(const Image& class_ids) {
  Image rgb = streethazards::colorize(class_ids);
  for (std::size_t i = 0; i < class_ids.pixels.size(); ++i)
    if (class_ids.pixels[i] == streethazards::kIgnore)
      rgb.pixels[3 * i] = rgb.pixels[3 * i + 1] = rgb.pixels[3 * i + 2] = 0;
  return rgb;
}

streethazards::Rgb inferno_color(double t) {
  const double position = (std::isnan(t) ? 0.0 : std::clamp(t, 0.0, 1.0)) * kInfernoIntervals;
  const int stop = std::min(int(position), kInfernoIntervals - 1);
  const double weight = position - stop;
  const streethazards::Rgb a = kInfernoStops[stop], b = kInfernoStops[stop + 1];
  return {mix(a.r, b.r, weight), mix(a.g, b.g, weight), mix(a.b, b.b, weight)};
}

Image heat_map(const Tensor& scores, HeatRange range) {
  PANS_CHECK(scores.ndim() == 2 && scores.dtype() == DType::F32 && scores.device().is_cpu(),
             "heat_map: ", scores.describe("scores"), ", expected float32 {H,W} on the cpu");
  const std::vector<float> values = scores.to_vector<float>();
  double low = 0, high = 1;
  if (range == HeatRange::PerImage && !values.empty()) {
    const auto [min, max] = std::minmax_element(values.begin(), values.end());
    low = *min;
    high = *max;
  }
  const double span = high > low ? high - low : 1.0;
  Image heat(scores.dim(0), scores.dim(1), 3);
  for (std::size_t i = 0; i < values.size(); ++i) {
    const streethazards::Rgb color = inferno_color((double(values[i]) - low) / span);
    heat.pixels[3 * i] = color.r;
    heat.pixels[3 * i + 1] = color.g;
    heat.pixels[3 * i + 2] = color.b;
  }
  return heat;
}

Image overlay(const Image& image, const Image& heat, double alpha) {
  PANS_CHECK(image.channels == 3 && heat.channels == 3 && image.same_size(heat), "overlay: image ", image.height, "x",
             image.width, "x", image.channels, " and heat map ", heat.height, "x", heat.width, "x", heat.channels,
             " must be RGB of one size");
  PANS_CHECK(alpha >= 0 && alpha <= 1, "overlay: alpha ", alpha, " is outside [0, 1]");
  Image blended(image.height, image.width, 3);
  for (std::size_t i = 0; i < image.pixels.size(); ++i) blended.pixels[i] = mix(image.pixels[i], heat.pixels[i], alpha);
  return blended;
}

}  // namespace pans
