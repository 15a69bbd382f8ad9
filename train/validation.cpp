#include "train/validation.h"

#include "data/loader.h"
#include "data/pipelines.h"

namespace pans {

ConfusionMatrix evaluate_native_resolution(PspNet& model, std::shared_ptr<const StreetHazards> dataset,
                                           std::int64_t batch, int workers) {
  const Image first = dataset->load(0).image;
  const DistributedSampler sampler(dataset->size(), SampleOrder::Sequential, 0, 0, 1, ShardSize::Uneven);
  const LoaderConfig loader_config{batch, workers, 2, LastBatch::Keep};
  BatchLoader loader(sampler, evaluation_samples(dataset, first.height, first.width), loader_config, 0,
                     (dataset->size() + batch - 1) / batch);
  const Device device = model.options().device;
  ConfusionMatrix matrix(int(model.config().classes));
  while (std::optional<Batch> next = loader.next()) {
    const Tensor images = device.is_cpu() ? next->images : next->images.to(device);
    const Tensor logits = model.forward(images, Mode::Eval, 0).logits;
    matrix.add_predictions(device.is_cpu() ? logits : logits.to(Device::cpu()), next->labels);
  }
  return matrix;
}

}  // namespace pans
