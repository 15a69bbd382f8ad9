// The PAnS training loop (docs/method.md#4-training-recipe): per iteration, a batch of augmented
// crops from the prefetching loader, forward in Train mode, CE(main) + 0.4 x CE(deep supervision)
// with ignore 255, backward, one Nesterov SGD step (momentum 0.9, weight decay 1e-4 on every
// parameter) at the poly learning rate lr (1 - it / max_it)^0.9. Progress lines go to the console
// and to <out>/metrics.jsonl; validation (validation.h) and checkpoints (checkpoint.h) happen at
// their intervals and at the end.
//
// Resuming is exact: everything the next iteration depends on is either in the checkpoint (weights,
// running statistics, momentum, the iteration) or a function of the iteration (the loader's batch
// order and augmentation, keyed by (seed, epoch, sample); the dropout masks, keyed by the step; the
// learning rate). On the CPU a resumed run therefore ends with the same bits as one that never
// stopped.
#pragma once

#include <cstdint>
#include <optional>
#include <ostream>

#include "dist/communicator.h"
#include "metrics/segmentation_metrics.h"
#include "train/train_config.h"

namespace pans {

struct TrainSummary {
  std::int64_t iteration = 0;   // where the run stopped
  std::int64_t iterations = 0;  // the schedule's length
  std::optional<SegmentationScores> last_validation;
  double images_per_second = 0;  // of this session's training iterations
};

// Trains as `config` says, from scratch or from the latest complete checkpoint in config.out.
// Throws pans::Error with a message naming the file or flag at fault.
TrainSummary train(const TrainConfig& config, std::ostream& console);

// The same, data-parallel over the communicator's ranks (dist/): config.batch images per rank and
// iteration, each rank its own shard of every epoch (DistributedSampler), synchronized InPlace-ABN,
// gradients averaged over the ranks before each step, so that the ranks hold the same weights.
// Rank 0 alone writes the console, the metrics log and the checkpoints; every rank validates its
// share of the validation split (validation.h) and reads the checkpoint it resumes from. With one
// rank this is train(config, console).
//
// A checkpoint may be resumed with another world size when the global batch (config.batch x ranks)
// is the same, e.g. 4 ranks x 2 after 2 ranks x 4: the recipe records the global batch, and the
// schedule (iterations, learning rate) is a function of it, not of the world size. The weights go on
// as they would have, except that the samples after the resume come in the new world size's shards
// (another order than the uninterrupted run's). A resume that would change the global batch is
// refused, naming both world sizes.
TrainSummary train(const TrainConfig& config, std::ostream& console, Communicator& communicator);

}  // namespace pans
