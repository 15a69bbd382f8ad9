#include "train/validation.h"

#include "data/loader.h"
#include "data/pipelines.h"

namespace pans {

ConfusionMatrix evaluate_native_resolution(PspNet& model, std::shared_ptr<const StreetHazards> dataset,
                                           std::int64_t batch, int workers, Communicator& communicator) {
  const Image first = dataset->load(0).image;
  const DistributedSampler sampler(dataset->size(), SampleOrder::Sequential, 0, communicator.rank(),
                                   communicator.world_size(), ShardSize::Uneven);
  ConfusionMatrix matrix(int(model.config().classes));
  // A rank past the end of a split smaller than the world has nothing to load, only the sum to join.
  if (sampler.shard_size() > 0) {
    const LoaderConfig loader_config{batch, workers, 2, LastBatch::Keep};
    BatchLoader loader(sampler, evaluation_samples(dataset, first.height, first.width), loader_config, 0,
                       (sampler.shard_size() + batch - 1) / batch);
    const Device device = model.options().device;
    while (std::optional<Batch> next = loader.next()) {
      const Tensor images = device.is_cpu() ? next->images : next->images.to(device);
      const Tensor logits = model.forward(images, Mode::Eval, 0).logits;
      matrix.add_predictions(device.is_cpu() ? logits : logits.to(Device::cpu()), next->labels);
    }
  }
  matrix.sum_over_ranks(communicator);
  return matrix;
}

}  // namespace pans
