// Periodic validation during training: one forward per image at its own resolution, single scale,
// no flip, Eval mode (running statistics, no dropout), accumulated into one confusion matrix over
// the whole split. The multi-scale test protocol belongs to eval_pans
// (docs/method.md#5-test-time-protocol-and-anomaly-scores).
#pragma once

#include <cstdint>
#include <memory>

#include "data/streethazards.h"
#include "dist/communicator.h"
#include "metrics/segmentation_metrics.h"
#include "models/pspnet.h"

namespace pans {

// Every image of `dataset` must have the size of its first one (StreetHazards: 1280x720). Batches of
// `batch` images are decoded by `workers` loader threads while the model runs.
//
// The ranks of `communicator` share the split: rank r evaluates images r, r + W, r + 2W, ... (every
// image exactly once, none repeated to even out the shards, since a repeat would be counted twice),
// and their matrices are summed, so every rank returns the matrix of the whole split, the one a
// single process counts. Eval mode does not communicate, so the ranks only meet in that sum.
ConfusionMatrix evaluate_native_resolution(PspNet& model, std::shared_ptr<const StreetHazards> dataset,
                                           std::int64_t batch, int workers, Communicator& communicator);

}  // namespace pans
