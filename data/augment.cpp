#include "data/augment.h"

#include <algorithm>
#include <array>
#include <cmath>

#include "data/classes.h"
#include "data/resize.h"
#include "data/rng_streams.h"
#include "tensor/philox.h"

namespace pans {
namespace {

constexpr float kMean[3] = {0.485f, 0.456f, 0.406f};
constexpr float kStd[3] = {0.229f, 0.224f, 0.225f};

// The normalised value of every byte per channel: the whole normalisation is a table look-up.
using NormalizationTable = std::array<std::array<float, 256>, 3>;

const NormalizationTable& normalization_table() {
  static const NormalizationTable table = [] {
    NormalizationTable values;
    for (int c = 0; c < 3; ++c)
      for (int v = 0; v < 256; ++v) values[c][v] = (float(v) / 255.0f - kMean[c]) / kStd[c];
    return values;
  }();
  return table;
}

// torchvision's pad_if_needed amount for one side.
std::int64_t padding_for(std::int64_t side, std::int64_t crop) { return side < crop ? (1 + crop - side) / 2 : 0; }

std::int64_t draw_offset(float u, std::int64_t range) {  // uniform on 0..range inclusive
  return std::min(std::int64_t(double(u) * double(range + 1)), range);
}

}  // namespace

AugmentPlan plan_augmentation(std::int64_t height, std::int64_t width, const AugmentConfig& config, std::uint64_t seed,
                              std::int64_t epoch, std::int64_t sample_index) {
  PANS_CHECK(height > 0 && width > 0 && config.crop > 0 && config.min_scale > 0 && config.min_scale <= config.max_scale,
             "plan_augmentation: image ", height, "x", width, ", crop ", config.crop, ", scale range [",
             config.min_scale, ", ", config.max_scale, "]");
  const std::uint64_t stream = augment_stream(epoch, sample_index);
  AugmentPlan plan;
  plan.scale = scale_uniform(philox_uniform(seed, stream, 0), config.min_scale, config.max_scale);
  plan.scaled_height = std::max<std::int64_t>(1, std::int64_t(double(height) * plan.scale));
  plan.scaled_width = std::max<std::int64_t>(1, std::int64_t(double(width) * plan.scale));
  // Width first, then height, each padding all four sides, as torchvision's RandomCrop does.
  const std::int64_t width_pad = padding_for(plan.scaled_width, config.crop);
  const std::int64_t height_pad = padding_for(plan.scaled_height + 2 * width_pad, config.crop);
  plan.pad = width_pad + height_pad;
  plan.crop = config.crop;
  plan.crop_top = draw_offset(philox_uniform(seed, stream, 1), plan.scaled_height + 2 * plan.pad - config.crop);
  plan.crop_left = draw_offset(philox_uniform(seed, stream, 2), plan.scaled_width + 2 * plan.pad - config.crop);
  plan.flip = config.flip == HorizontalFlip::Random && philox_uniform(seed, stream, 3) < 0.5f;
  return plan;
}

Sample apply_augmentation(const Image& image, const Image& class_ids, const AugmentPlan& plan) {
  PANS_CHECK(image.channels == 3 && class_ids.channels == 1 && image.same_size(class_ids), "apply_augmentation: image ",
             image.height, "x", image.width, "x", image.channels, ", label ", class_ids.height, "x", class_ids.width,
             "x", class_ids.channels);
  const Image scaled = resize_antialiased_bilinear(image, plan.scaled_height, plan.scaled_width);
  const Image scaled_ids = resize_nearest(class_ids, plan.scaled_height, plan.scaled_width);
  const NormalizationTable& table = normalization_table();

  Sample sample{Tensor::empty({plan.crop, plan.crop, 3}), Tensor::empty({plan.crop, plan.crop}, DType::U8)};
  float* out_image = sample.image.data<float>();
  std::uint8_t* out_label = sample.label.data<std::uint8_t>();
  for (std::int64_t y = 0; y < plan.crop; ++y)
    for (std::int64_t x = 0; x < plan.crop; ++x) {
      // Position in the scaled image (the padded image shifted by the padding).
      const std::int64_t sy = plan.crop_top + y - plan.pad;
      const std::int64_t sx = plan.crop_left + (plan.flip ? plan.crop - 1 - x : x) - plan.pad;
      const bool inside = sy >= 0 && sy < plan.scaled_height && sx >= 0 && sx < plan.scaled_width;
      const std::int64_t out = y * plan.crop + x;
      for (int c = 0; c < 3; ++c) out_image[3 * out + c] = table[c][inside ? scaled.at(sy, sx, c) : 0];
      out_label[out] = inside ? scaled_ids.at(sy, sx) : streethazards::kIgnore;
    }
  return sample;
}

Tensor normalize_imagenet(const Image& image) {
  PANS_CHECK(image.channels == 3, "normalize_imagenet: expects 3 channels, the image has ", image.channels);
  const NormalizationTable& table = normalization_table();
  Tensor out = Tensor::empty({image.height, image.width, 3});
  float* values = out.data<float>();
  for (std::size_t i = 0; i < image.pixels.size(); ++i) values[i] = table[i % 3][image.pixels[i]];
  return out;
}

Tensor eval_image(const Image& image, std::int64_t height, std::int64_t width) {
  return normalize_imagenet(resize_antialiased_bilinear(image, height, width));
}

}  // namespace pans
