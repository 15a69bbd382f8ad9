#include "metrics/segmentation_metrics.h"

#include <cstdio>

#include "data/classes.h"
#include "dist/count_sum.h"

namespace pans {

ConfusionMatrix::ConfusionMatrix(int classes) : classes_(classes), counts_(std::size_t(classes * classes), 0) {
  PANS_CHECK(classes > 0, "ConfusionMatrix: ", classes, " classes");
}

void ConfusionMatrix::add_predictions(const Tensor& logits, const Tensor& labels) {
  PANS_CHECK(logits.ndim() == 4 && logits.dim(3) == classes_ && logits.dtype() == DType::F32 &&
                 logits.device().is_cpu() && logits.is_contiguous() && labels.dtype() == DType::U8 &&
                 labels.is_contiguous() && labels.shape() == Shape(logits.shape().begin(), logits.shape().end() - 1),
             "ConfusionMatrix::add_predictions: ", logits.describe("logits"), " and ", labels.describe("labels"),
             " (expected contiguous float32 {N,H,W,", classes_, "} on the cpu and uint8 {N,H,W})");
  const float* scores = logits.data<float>();
  const std::uint8_t* truth = labels.data<std::uint8_t>();
  for (std::int64_t p = 0; p < labels.numel(); ++p) {
    if (truth[p] >= classes_) continue;
    const float* row = scores + p * classes_;
    int best = 0;
    for (int k = 1; k < classes_; ++k)
      if (row[k] > row[best]) best = k;
    ++counts_[std::size_t(truth[p] * classes_ + best)];
  }
}

void ConfusionMatrix::add(int truth, int predicted, std::int64_t count) {
  PANS_CHECK(truth >= 0 && truth < classes_ && predicted >= 0 && predicted < classes_ && count >= 0,
             "ConfusionMatrix::add: truth ", truth, ", prediction ", predicted, ", count ", count, " with ", classes_,
             " classes");
  counts_[std::size_t(truth * classes_ + predicted)] += count;
}

void ConfusionMatrix::sum_over_ranks(Communicator& communicator) {
  sum_counts_over_ranks(counts_, communicator, "confusion matrix");
}

std::int64_t ConfusionMatrix::count(int truth, int predicted) const {
  return counts_[std::size_t(truth * classes_ + predicted)];
}

std::int64_t ConfusionMatrix::total() const {
  std::int64_t sum = 0;
  for (std::int64_t c : counts_) sum += c;
  return sum;
}

bool is_table2_class(int class_id) {
  return class_id != streethazards::kOther && class_id != streethazards::kPedestrian;
}

SegmentationScores segmentation_scores(const ConfusionMatrix& matrix) {
  const int k = matrix.classes();
  SegmentationScores scores;
  double sum13 = 0, sum11 = 0;
  int present13 = 0, present11 = 0;
  std::int64_t correct = 0;
  for (int c = 0; c < k; ++c) {
    std::int64_t in_truth = 0, in_prediction = 0;
    for (int other = 0; other < k; ++other) {
      in_truth += matrix.count(c, other);
      in_prediction += matrix.count(other, c);
    }
    const std::int64_t tp = matrix.count(c, c);
    correct += tp;
    if (in_truth == 0) {
      scores.iou.emplace_back();
      continue;
    }
    const double iou = double(tp) / double(in_truth + in_prediction - tp);  // TP / (TP + FN + FP)
    scores.iou.emplace_back(iou);
    sum13 += iou;
    ++present13;
    if (is_table2_class(c)) {
      sum11 += iou;
      ++present11;
    }
  }
  if (present13 > 0) scores.miou13 = sum13 / present13;
  if (present11 > 0) scores.miou11 = sum11 / present11;
  const std::int64_t total = matrix.total();
  scores.pixel_accuracy = total > 0 ? double(correct) / double(total) : 0.0;
  return scores;
}

std::string format_scores(const SegmentationScores& scores) {
  const auto percent = [](const std::optional<double>& value) {
    char text[16];
    if (value)
      std::snprintf(text, sizeof text, "%5.1f", 100 * *value);
    else
      std::snprintf(text, sizeof text, "%5s", "-");
    return std::string(text);
  };
  // Two classes per line; * marks the classes mIoU11 leaves out.
  std::string table;
  for (std::size_t c = 0; c < scores.iou.size(); ++c) {
    std::string name = c <= streethazards::kAnomaly ? streethazards::class_name(int(c)) : std::to_string(c);
    if (!is_table2_class(int(c))) name += "*";
    char cell[48];
    std::snprintf(cell, sizeof cell, "  %-13s %s", name.c_str(), percent(scores.iou[c]).c_str());
    table += cell;
    if (c % 2 == 1 || c + 1 == scores.iou.size()) table += "\n";
  }
  table += "  mIoU13 " + percent(scores.miou13) + "   mIoU11 " + percent(scores.miou11) + "   pixel accuracy " +
           percent(scores.pixel_accuracy) + "   (IoU %, * not in mIoU11, - absent)\n";
  return table;
}

}  // namespace pans
