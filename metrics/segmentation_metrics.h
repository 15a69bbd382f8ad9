// Semantic-segmentation scores (docs/metrics.md#segmentation-miou13-and-miou11): one confusion
// matrix over the whole evaluated split for the known classes 0..K-1 (the anomaly class and ignored
// pixels are left out), then per class IoU = TP / (TP + FP + FN), and two means:
//   mIoU13: over every known class present in the ground truth (the official PAnS code);
//   mIoU11: over the paper's Table-2 classes present in the ground truth, i.e. without
//           3 "other" and 4 "pedestrian".
// A class absent from the ground truth has no IoU (predicting it still costs the classes whose
// pixels it took, as their FN).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "dist/communicator.h"
#include "tensor/tensor.h"

namespace pans {

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int classes);

  // logits float32 {N,H,W,K} on the CPU, labels uint8 {N,H,W}: counts (label, argmax over K) at
  // every pixel whose label is below K; ties go to the lower class, as torch.argmax.
  void add_predictions(const Tensor& logits, const Tensor& labels);
  void add(int truth, int predicted, std::int64_t count = 1);
  // Every rank's matrix <- the sum of the ranks' matrices (exact: dist/count_sum.h), so that ranks
  // that each counted a disjoint share of a split hold the matrix of the whole split.
  void sum_over_ranks(Communicator& communicator);

  int classes() const { return classes_; }
  std::int64_t count(int truth, int predicted) const;
  std::int64_t total() const;

 private:
  int classes_;
  std::vector<std::int64_t> counts_;  // row = ground truth, column = prediction
};

// The 11 classes of the paper's Table 2 (every known class but 3 "other" and 4 "pedestrian").
bool is_table2_class(int class_id);

struct SegmentationScores {
  std::vector<std::optional<double>> iou;  // per class, in [0, 1]; absent from the ground truth: none
  std::optional<double> miou13, miou11;    // none when no class (of the subset) is present
  double pixel_accuracy = 0;
};

SegmentationScores segmentation_scores(const ConfusionMatrix& matrix);

// The scores as a small table of percentages, one class per line, for the console.
std::string format_scores(const SegmentationScores& scores);

}  // namespace pans
