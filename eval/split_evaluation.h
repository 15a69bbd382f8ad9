// eval_pans' checkpoint mode: a model over a whole StreetHazards-layout split (the released test set
// or the embedded one), image by image with the multi-scale protocol of eval/multiscale.h. The
// segmentation goes into one confusion matrix for mIoU; each anomaly map goes, with the image's
// class ids, into the AnomalyAccumulator of its score kind (eval/anomaly_metrics.h).
#pragma once

#include <cstdint>
#include <ostream>
#include <utility>
#include <vector>

#include "data/streethazards.h"
#include "eval/anomaly_metrics.h"
#include "eval/multiscale.h"
#include "eval/progress.h"
#include "train/segmentation_metrics.h"

namespace pans {

struct SplitEvaluation {
  ConfusionMatrix confusion;  // the known classes (segmentation_scores() gives the mIoU)
  // One accumulator per score kind of supported_scores(classifier), in that order; each image was
  // added under its image path.
  std::vector<std::pair<ScoreKind, AnomalyAccumulator>> anomaly;
  std::int64_t images = 0;
  double seconds = 0;
};

// Evaluates every image of `dataset` in its order at test_input_sizes(image, scale_factors).
// Progress goes to `progress` in `style`. The next image is decoded on another thread while the
// model runs. Errors (an unreadable PNG, a NaN score, ...) propagate as pans::Error naming the file.
SplitEvaluation evaluate_split(PspNet& model, const StreetHazards& dataset, const std::vector<double>& scale_factors,
                               std::ostream& progress, ProgressStyle style);

}  // namespace pans
