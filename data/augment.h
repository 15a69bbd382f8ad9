// The PAnS training augmentation (docs/method.md#augmentation) and the evaluation preprocessing.
//
// Training, in the order of the official code: random scale s ~ U[min_scale, max_scale] to
// (int(h·s), int(w·s)) (antialiased bilinear for the image, nearest for the label); if the width,
// then the height, is below the crop, pad all four sides by int((1 + crop - side) / 2) (image 0,
// label 255 = ignore); a random crop; a horizontal flip with p = 0.5; ImageNet normalisation.
//
// Randomness: the four draws of a sample are Philox numbers keyed by (seed, epoch, sample index),
// never a generator shared between threads, so a sample's augmentation is the same whichever worker
// prepares it, in whatever order, after a resume, and at any world size.
#pragma once

#include <cstdint>

#include "data/image.h"
#include "tensor/tensor.h"

namespace pans {

enum class HorizontalFlip { Random, Never };

struct AugmentConfig {
  double min_scale = 300.0 / 720.0;
  double max_scale = 1000.0 / 1280.0;
  std::int64_t crop = 450;
  HorizontalFlip flip = HorizontalFlip::Random;
};

// What the draws decided for one sample; every length in pixels.
struct AugmentPlan {
  double scale;
  std::int64_t scaled_height, scaled_width;
  std::int64_t pad;                        // on each of the four sides (the width's padding plus the height's)
  std::int64_t crop, crop_top, crop_left;  // in the padded image
  bool flip;
};

AugmentPlan plan_augmentation(std::int64_t height, std::int64_t width, const AugmentConfig& config, std::uint64_t seed,
                              std::int64_t epoch, std::int64_t sample_index);

// What the network eats: image float32 {H,W,3} normalised, label uint8 {H,W} (class ids, 255 ignore).
struct Sample {
  Tensor image, label;
};

// Applies `plan` to an RGB image {H,W,3} and its class ids {H,W,1} of the same size.
Sample apply_augmentation(const Image& image, const Image& class_ids, const AugmentPlan& plan);

// ImageNet normalisation, rounded as torchvision's to_tensor + Normalize in float32:
// ((v / 255) - mean[c]) / std[c]. Returns float32 {H,W,3}.
Tensor normalize_imagenet(const Image& image);

// Evaluation input: the whole image resized (antialiased bilinear; no crop, no flip) to
// height x width, normalised. The label stays at its own resolution (docs/method.md#input-sizes).
Tensor eval_image(const Image& image, std::int64_t height, std::int64_t width);

}  // namespace pans
