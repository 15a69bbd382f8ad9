// Anomaly and normal pixel counts per score bin, pooled over a whole test split, so that its ROC
// and precision-recall curves can be drawn without keeping 1.4 G pixels (StreetHazards test).
//
// One pass, because the checkpoint evaluation cannot afford a second run of the network to learn
// the score range first: kBins equal bins cover [origin, origin + kBins·width]; a score outside
// widens the range by doubling the bin width toward the side that needs it, which merges
// neighbouring bins exactly, so every count stays in the bin of its own score. The curves are then
// exact at the bin edges: their thresholds are the edges instead of every distinct score.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace pans {

struct CurvePoint {
  double x = 0, y = 0;
};

struct PooledCurves {
  std::vector<CurvePoint> roc;              // (false-positive rate, true-positive rate), from (0, 0) to (1, 1)
  std::vector<CurvePoint> pr;               // (recall, precision), recall rising
  double auroc = 0, average_precision = 0;  // of these binned curves, as fractions
};

class ScoreHistogram {
 public:
  static constexpr int kBins = 4096;

  // Widens the bins until [low, high] fits; call before adding scores in that range.
  void cover(double low, double high);
  void add(float score, bool anomaly) {
    const double at = std::floor((double(score) - origin_) / width_);
    const std::size_t bin = std::size_t(std::clamp(at, 0.0, double(kBins - 1)));
    ++(anomaly ? anomalies_ : normals_)[bin];
  }

  // The anomaly counts then the normal ones, kBins each. Histograms that covered the same ranges in
  // the same order have the same bins, and adding their counts merges them exactly.
  std::vector<std::int64_t> counts() const;
  void set_counts(const std::vector<std::int64_t>& counts);

  std::int64_t anomalies() const;
  std::int64_t normals() const;
  // Needs at least one anomaly and one normal pixel.
  PooledCurves curves() const;

 private:
  void double_width_downward();
  void double_width_upward();

  double origin_ = 0, width_ = 0;  // width 0: nothing covered yet
  std::vector<std::int64_t> anomalies_ = std::vector<std::int64_t>(kBins), normals_ = std::vector<std::int64_t>(kBins);
};

}  // namespace pans
