#include "eval/anomaly_metrics.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>

#include "tensor/error.h"

namespace pans {
namespace {

// A float's bits mapped so that unsigned order is numeric order. -0 and +0 are one threshold, as
// in numpy's sort and diff.
std::uint32_t ordered_bits(float score) {
  if (score == 0) score = 0;
  std::uint32_t bits;
  std::memcpy(&bits, &score, sizeof bits);
  return (bits & 0x80000000u) != 0 ? ~bits : bits | 0x80000000u;
}

// LSD radix sort of the 33-bit keys (ordered score bits, then the anomaly bit) in three passes of
// 11 bits: a few milliseconds per 1280×720 image where std::sort takes about 70.
void sort_keys(std::vector<std::uint64_t>& keys) {
  constexpr int kDigitBits = 11, kDigits = 1 << kDigitBits;
  std::vector<std::uint64_t> buffer(keys.size());
  for (int shift = 0; shift < 33; shift += kDigitBits) {
    std::array<std::size_t, kDigits + 1> start{};
    for (std::uint64_t key : keys) ++start[((key >> shift) & (kDigits - 1)) + 1];
    for (int d = 0; d < kDigits; ++d) start[d + 1] += start[d];
    for (std::uint64_t key : keys) buffer[start[(key >> shift) & (kDigits - 1)]++] = key;
    keys.swap(buffer);
  }
}

}  // namespace

std::optional<ImageAnomalyMetrics> image_anomaly_metrics(const float* scores, const std::uint8_t* class_ids,
                                                         std::int64_t pixels, const std::string& name) {
  // The AUROC numerator below is at most 2·P·N < 2^61 below this size, exact in int64.
  PANS_CHECK(pixels > 0 && pixels < (std::int64_t(1) << 31), name, ": ", pixels, " pixels, expected 1 to 2^31 - 1");
  std::vector<std::uint64_t> keys(std::size_t(pixels), 0);
  std::int64_t positives = 0;
  for (std::int64_t i = 0; i < pixels; ++i) {
    if (!std::isfinite(scores[i]))
      PANS_FAIL(name, ": score ", scores[i], " at pixel ", i, " (row-major); scores must be finite");
    const bool anomaly = class_ids[i] == kAnomalyClassId;
    positives += anomaly;
    keys[std::size_t(i)] = std::uint64_t(ordered_bits(scores[i])) << 1 | std::uint64_t(anomaly);
  }
  const std::int64_t negatives = pixels - positives;
  if (positives == 0 || negatives == 0) return std::nullopt;
  sort_keys(keys);

  // One step per distinct score, highest first: tp and fp count the pixels scored at least that high.
  const double p = double(positives), n = double(negatives);
  std::int64_t tp = 0, fp = 0, auroc_twice_pn = 0;
  double average_precision = 0;
  double closest_distance = INFINITY;  // FPR95: the last threshold (lowest score) at the closest recall wins
  std::int64_t closest_fp = 0;
  for (std::size_t end = keys.size(); end > 0;) {
    const std::int64_t previous_tp = tp, previous_fp = fp;
    const std::uint64_t score = keys[end - 1] >> 1;
    for (; end > 0 && keys[end - 1] >> 1 == score; --end) {
      if ((keys[end - 1] & 1) != 0)
        ++tp;
      else
        ++fp;
    }
    // The ROC trapezoid (ΔFP/N)·(TP + TP_previous)/(2P), summed exactly in units of 1/(2·P·N).
    auroc_twice_pn += (fp - previous_fp) * (tp + previous_tp);
    // sklearn: diff of the rounded recalls times the precision.
    average_precision += (double(tp) / p - double(previous_tp) / p) * (double(tp) / double(tp + fp));
    // Hendrycks stops at the first threshold with full recall; recall and |recall − 0.95| are
    // rounded exactly as numpy rounds them, which decides near-ties such as recall 0.9 vs 1.0.
    if (previous_tp < positives) {
      const double distance = std::abs(double(tp) / p - 0.95);
      if (distance <= closest_distance) {
        closest_distance = distance;
        closest_fp = fp;
      }
    }
  }
  return ImageAnomalyMetrics{double(auroc_twice_pn) / (2 * p * n), average_precision, double(closest_fp) / n};
}

ImageAnomalySummary summarize_image(const float* scores, const std::uint8_t* class_ids, std::int64_t pixels,
                                    const std::string& name) {
  ImageAnomalySummary summary;
  summary.metrics = image_anomaly_metrics(scores, class_ids, pixels, name);
  if (summary.metrics) {
    const auto [low, high] = std::minmax_element(scores, scores + pixels);
    summary.low = *low;
    summary.high = *high;
  }
  return summary;
}

void AnomalyAccumulator::add_image(const float* scores, const std::uint8_t* class_ids, std::int64_t pixels,
                                   const std::string& name) {
  const ImageAnomalySummary summary = summarize_image(scores, class_ids, pixels, name);
  add_summary(summary, name);
  if (summary.metrics) add_pixels(scores, class_ids, pixels);
}

void AnomalyAccumulator::add_summary(const ImageAnomalySummary& summary, const std::string& name) {
  if (!summary.metrics) {
    skipped_.push_back(name);
    return;
  }
  auroc_sum_ += summary.metrics->auroc;
  ap_sum_ += summary.metrics->average_precision;
  fpr95_sum_ += summary.metrics->fpr95;
  ++images_;
  pooled_.cover(summary.low, summary.high);
}

void AnomalyAccumulator::add_pixels(const float* scores, const std::uint8_t* class_ids, std::int64_t pixels) {
  for (std::int64_t i = 0; i < pixels; ++i) pooled_.add(scores[i], class_ids[i] == kAnomalyClassId);
}

AnomalyResult AnomalyAccumulator::result() const {
  PANS_CHECK(images_ > 0, "no image has both anomaly (class 13, PNG 14) and other pixels (", skipped_.size(),
             " images, all skipped)");
  AnomalyResult result;
  result.auroc = 100 * auroc_sum_ / double(images_);
  result.aupr = 100 * ap_sum_ / double(images_);
  result.fpr95 = 100 * fpr95_sum_ / double(images_);
  result.images = images_;
  result.skipped_images = std::int64_t(skipped_.size());
  result.skipped = skipped_;
  result.pooled = pooled_;
  return result;
}

}  // namespace pans
