// The PAnS training loop (method.md §4): per iteration, a batch of augmented crops from the
// prefetching loader, forward in Train mode, CE(main) + 0.4 x CE(deep supervision) with ignore 255,
// backward, one Nesterov SGD step (momentum 0.9, weight decay 1e-4 on every parameter) at the poly
// learning rate lr (1 - it / max_it)^0.9. Progress lines go to the console and to
// <out>/metrics.jsonl; validation (validation.h) and checkpoints (checkpoint.h) happen at their
// intervals and at the end.
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
#include "train/segmentation_metrics.h"
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
// Rank 0 alone writes the console, the metrics log and the checkpoints, and validates; every rank
// reads the checkpoint it resumes from. With one rank this is train(config, console).
TrainSummary train(const TrainConfig& config, std::ostream& console, Communicator& communicator);

}  // namespace pans
