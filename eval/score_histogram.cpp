#include "eval/score_histogram.h"

#include <numeric>

#include "tensor/error.h"

namespace pans {

void ScoreHistogram::cover(double low, double high) {
  PANS_CHECK(std::isfinite(low) && std::isfinite(high) && low <= high, "ScoreHistogram::cover: bad range [", low, ", ",
             high, "]");
  if (width_ == 0) {
    // A constant first image gets a narrow range around its value; later images widen it as needed.
    const double span = high > low ? high - low : std::max(std::abs(low), 1.0) * 0x1p-20;
    origin_ = low;
    width_ = span / kBins;
    return;
  }
  while (low < origin_) double_width_downward();
  while (high > origin_ + kBins * width_) double_width_upward();
}

// The old range becomes the upper half of the new one.
void ScoreHistogram::double_width_downward() {
  for (std::vector<std::int64_t>* counts : {&anomalies_, &normals_}) {
    std::vector<std::int64_t> merged(kBins);
    for (int j = 0; j < kBins / 2; ++j) merged[kBins / 2 + j] = (*counts)[2 * j] + (*counts)[2 * j + 1];
    *counts = std::move(merged);
  }
  origin_ -= kBins * width_;
  width_ *= 2;
}

// The old range becomes the lower half of the new one.
void ScoreHistogram::double_width_upward() {
  for (std::vector<std::int64_t>* counts : {&anomalies_, &normals_}) {
    std::vector<std::int64_t> merged(kBins);
    for (int j = 0; j < kBins / 2; ++j) merged[j] = (*counts)[2 * j] + (*counts)[2 * j + 1];
    *counts = std::move(merged);
  }
  width_ *= 2;
}

std::vector<std::int64_t> ScoreHistogram::counts() const {
  std::vector<std::int64_t> both = anomalies_;
  both.insert(both.end(), normals_.begin(), normals_.end());
  return both;
}

void ScoreHistogram::set_counts(const std::vector<std::int64_t>& counts) {
  PANS_CHECK(counts.size() == 2 * std::size_t(kBins), "ScoreHistogram::set_counts: ", counts.size(),
             " counts, expected ", 2 * kBins);
  anomalies_.assign(counts.begin(), counts.begin() + kBins);
  normals_.assign(counts.begin() + kBins, counts.end());
}

std::int64_t ScoreHistogram::anomalies() const {
  return std::accumulate(anomalies_.begin(), anomalies_.end(), std::int64_t(0));
}

std::int64_t ScoreHistogram::normals() const {
  return std::accumulate(normals_.begin(), normals_.end(), std::int64_t(0));
}

// Thresholds at the bin edges from the top down; the areas follow scikit-learn's definitions
// (trapezoids for the ROC, the step sum for AP) on these points.
PooledCurves ScoreHistogram::curves() const {
  const double positives = double(anomalies()), negatives = double(normals());
  PANS_CHECK(positives > 0 && negatives > 0, "pooled curves need anomaly and normal pixels, there are ", positives,
             " and ", negatives);
  PooledCurves curves;
  curves.roc.push_back({0, 0});
  std::int64_t tp = 0, fp = 0;
  for (int bin = kBins - 1; bin >= 0; --bin) {
    if (anomalies_[bin] == 0 && normals_[bin] == 0) continue;
    const std::int64_t previous_tp = tp, previous_fp = fp;
    tp += anomalies_[bin];
    fp += normals_[bin];
    const double recall = double(tp) / positives, precision = double(tp) / double(tp + fp);
    curves.roc.push_back({double(fp) / negatives, recall});
    curves.pr.push_back({recall, precision});
    curves.auroc += double(fp - previous_fp) / negatives * double(tp + previous_tp) / positives / 2;
    curves.average_precision += double(tp - previous_tp) / positives * precision;
  }
  return curves;
}

}  // namespace pans
