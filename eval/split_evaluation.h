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
#include "dist/communicator.h"
#include "eval/anomaly_metrics.h"
#include "eval/multiscale.h"
#include "eval/progress.h"
#include "metrics/segmentation_metrics.h"

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
// Also the scores `options` asks for (eval/multiscale.h), each image keyed by mc_dropout_image_key
// of its path.
SplitEvaluation evaluate_split(PspNet& model, const StreetHazards& dataset, const std::vector<double>& scale_factors,
                               std::ostream& progress, ProgressStyle style, const ScoreOptions& options = {});

// The same with the images shared among the ranks of `communicator`, in rounds of one image per
// rank: rank r evaluates images r, r + W, r + 2W, ... (each image once). After each round the ranks
// all-gather what their images gave (the per-image metrics and score ranges of every score kind:
// a few numbers each), and every rank adds them in image order, so every rank's sums, skipped names
// and pooled-histogram bins are those of one process. At the end the confusion matrices and the
// pooled histograms' counts are summed over the ranks (exact, dist/count_sum.h). Every rank returns
// the single-process evaluation, bit for bit except `seconds`; only rank 0 writes progress. With one
// rank this is the function above.
SplitEvaluation evaluate_split(PspNet& model, const StreetHazards& dataset, const std::vector<double>& scale_factors,
                               std::ostream& progress, ProgressStyle style, Communicator& communicator,
                               const ScoreOptions& options = {});

}  // namespace pans
