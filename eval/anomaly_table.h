// The results table of eval_pans, laid out like the paper's Table 1
// (docs/method.md#1-the-paper-and-what-pans-reproduces): one row per score kind or method with
// AUPR ↑, AUROC ↑, FPR95 ↓ (percent, the CAOS protocol), plus mIoU13 and mIoU11 when the row's
// model was evaluated for segmentation; and the same results as JSON.
// Both eval_pans modes use it: anomaly maps from files, and a checkpoint with its score kinds
// (MSP, max logit, cosine + softmax, PAnS).
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "eval/anomaly_metrics.h"

namespace pans {

enum class RowSource { Measured, Paper };

struct AnomalyTableRow {
  std::string name;
  AnomalyResult result;
  std::optional<double> miou13, miou11;  // percent
  RowSource source = RowSource::Measured;
};

// The paper's MSP and PAnS rows of Table 1 (StreetHazards test, ResNet-50 + PSPNet), with the
// mIoU of Table 2's linear and cosine classifiers as mIoU11 (the mean of its 11 columns).
std::vector<AnomalyTableRow> paper_table1_rows();

// The rows as a text table; paper rows go below a rule, and the mIoU columns appear when a row has one.
std::string format_anomaly_table(const std::vector<AnomalyTableRow>& rows);

// {"protocol": ..., "scores": {<name>: {"auroc", "aupr", "fpr95" (percent), "images",
// "skipped_images", "skipped" (names), "pooled_auroc", "pooled_aupr", ["miou13", "miou11"]}}}
// for the measured rows; names must be distinct.
nlohmann::json anomaly_json(const std::vector<AnomalyTableRow>& rows);

}  // namespace pans
