// The sample functions train_pans and the evaluation hand to BatchLoader: a StreetHazards split read
// from disk, then the training augmentation or the evaluation preprocessing.
#pragma once

#include <cstdint>
#include <memory>

#include "data/augment.h"
#include "data/loader.h"
#include "data/streethazards.h"

namespace pans {

// Class ids {H,W,1} -> uint8 tensor {H,W}.
Tensor label_tensor(const Image& class_ids);

// Decodes sample `index` and augments it with the draws of (seed, epoch, index).
SampleFn training_samples(std::shared_ptr<const StreetHazards> dataset, AugmentConfig config, std::uint64_t seed);

// Decodes sample `index`; the image is resized to height x width and normalised, the label keeps
// the image's own resolution. The epoch is ignored: evaluation is not random.
SampleFn evaluation_samples(std::shared_ptr<const StreetHazards> dataset, std::int64_t height, std::int64_t width);

}  // namespace pans
