// The anomaly metrics of the CAOS protocol (docs/metrics.md, with the exact definitions and their
// edge cases): per image, over all pixels (none ignored), positives = class 13, score higher = more
// anomalous:
//   AUROC = scikit-learn roc_auc_score (trapezoids, ties count one half);
//   AP    = scikit-learn average_precision_score, Σ_k (R_k − R_{k−1})·P_k over distinct thresholds;
//   FPR95 = Hendrycks' fpr_and_fdr_at_recall(0.95): the FPR at the threshold whose recall is closest
//           to 0.95, ties to the lower threshold, with |recall − 0.95| rounded as numpy rounds it.
// Images with positives only or negatives only are skipped; the reported numbers are the means over
// the other images, ×100.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "eval/score_histogram.h"

namespace pans {

constexpr std::uint8_t kAnomalyClassId = 13;  // PNG value 14; every other id (255 included) is a negative

// One image's metrics as fractions in [0, 1].
struct ImageAnomalyMetrics {
  double auroc = 0, average_precision = 0, fpr95 = 0;
};

// class_ids are decoded StreetHazards ids (PNG v -> v − 1, PNG 0 -> 255). Returns nothing when the
// image has anomaly pixels only or none. Throws pans::Error starting with `name` (the score map's
// file) for a NaN or infinite score.
std::optional<ImageAnomalyMetrics> image_anomaly_metrics(const float* scores, const std::uint8_t* class_ids,
                                                         std::int64_t pixels, const std::string& name);

struct AnomalyResult {
  double auroc = 0, aupr = 0, fpr95 = 0;  // percent: the mean over the images used, ×100
  std::int64_t images = 0;                // images used
  std::int64_t skipped_images = 0;        // images with one class only
  std::vector<std::string> skipped;       // their names, in the order added
  ScoreHistogram pooled;                  // every pixel of the images used, for the pooled curves
};

// What the accumulator keeps of an image besides its pixels: its metrics (none: skipped) and, for
// an image used, its score range, which decides the pooled histogram's bins.
struct ImageAnomalySummary {
  std::optional<ImageAnomalyMetrics> metrics;
  float low = 0, high = 0;
};

// image_anomaly_metrics and the score range; throws as it does.
ImageAnomalySummary summarize_image(const float* scores, const std::uint8_t* class_ids, std::int64_t pixels,
                                    const std::string& name);

// Adds images one at a time (a test split does not fit in memory: StreetHazards test is 1.4 G
// pixels) and keeps the per-image sums, in double, in the order the images come.
class AnomalyAccumulator {
 public:
  void add_image(const float* scores, const std::uint8_t* class_ids, std::int64_t pixels, const std::string& name);

  // add_image in two halves, for images shared among ranks (eval/split_evaluation.h): every rank
  // adds the summary of every image in image order, so that the sums are added in the order one
  // process adds them and the pooled histogram's bins widen the same way on every rank; the rank
  // that evaluated an image adds its pixels right after its summary. The ranks' histograms then
  // share one grid and their counts sum to the single process's (pooled_counts, set_pooled_counts).
  void add_summary(const ImageAnomalySummary& summary, const std::string& name);
  void add_pixels(const float* scores, const std::uint8_t* class_ids, std::int64_t pixels);
  // The pooled histogram's counts (ScoreHistogram::counts), to be summed over the ranks and put back.
  std::vector<std::int64_t> pooled_counts() const { return pooled_.counts(); }
  void set_pooled_counts(const std::vector<std::int64_t>& counts) { pooled_.set_counts(counts); }

  // Throws pans::Error when no image had both anomaly and other pixels.
  AnomalyResult result() const;

 private:
  double auroc_sum_ = 0, ap_sum_ = 0, fpr95_sum_ = 0;
  std::int64_t images_ = 0;
  std::vector<std::string> skipped_;
  ScoreHistogram pooled_;
};

}  // namespace pans
