#include "data/pipelines.h"

#include <cstring>
#include <utility>

namespace pans {

Tensor label_tensor(const Image& class_ids) {
  PANS_CHECK(class_ids.channels == 1, "label_tensor: class ids have 1 channel, not ", class_ids.channels);
  Tensor labels = Tensor::empty({class_ids.height, class_ids.width}, DType::U8);
  std::memcpy(labels.data<std::uint8_t>(), class_ids.pixels.data(), class_ids.pixels.size());
  return labels;
}

SampleFn training_samples(std::shared_ptr<const StreetHazards> dataset, AugmentConfig config, std::uint64_t seed) {
  return [dataset = std::move(dataset), config, seed](std::int64_t index, std::int64_t epoch) {
    const LabeledImage decoded = dataset->load(index);
    const AugmentPlan plan = plan_augmentation(decoded.image.height, decoded.image.width, config, seed, epoch, index);
    return apply_augmentation(decoded.image, decoded.label, plan);
  };
}

SampleFn evaluation_samples(std::shared_ptr<const StreetHazards> dataset, std::int64_t height, std::int64_t width) {
  PANS_CHECK(height > 0 && width > 0, "evaluation_samples: input size ", height, "x", width);
  return [dataset = std::move(dataset), height, width](std::int64_t index, std::int64_t) {
    const LabeledImage decoded = dataset->load(index);
    return Sample{eval_image(decoded.image, height, width), label_tensor(decoded.label)};
  };
}

}  // namespace pans
