#include "eval/anomaly_table.h"

#include <algorithm>
#include <cstdio>
#include <set>

#include "tensor/error.h"

namespace pans {
namespace {

// Columns are padded by characters, not bytes: the headers hold arrows (3 bytes in UTF-8).
std::size_t display_width(const std::string& text) {
  return std::size_t(std::count_if(text.begin(), text.end(), [](char c) { return (c & 0xC0) != 0x80; }));
}

std::string pad_left(const std::string& text, std::size_t width) {
  return std::string(width - std::min(width, display_width(text)), ' ') + text;
}

std::string pad_right(const std::string& text, std::size_t width) {
  return text + std::string(width - std::min(width, display_width(text)), ' ');
}

std::string percent(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.2f", value);
  return text;
}

std::string optional_percent(const std::optional<double>& value) { return value ? percent(*value) : "-"; }

AnomalyTableRow paper_row(const std::string& name, double aupr, double auroc, double fpr95, double miou11) {
  AnomalyTableRow row;
  row.name = name;
  row.result.aupr = aupr;
  row.result.auroc = auroc;
  row.result.fpr95 = fpr95;
  row.miou11 = miou11;
  row.source = RowSource::Paper;
  return row;
}

}  // namespace

std::vector<AnomalyTableRow> paper_table1_rows() {
  return {paper_row("MSP (paper)", 6.6, 87.7, 33.7, 53.2), paper_row("PAnS (paper)", 8.8, 91.1, 23.2, 54.2)};
}

std::string format_anomaly_table(const std::vector<AnomalyTableRow>& rows) {
  const bool with_miou = std::any_of(rows.begin(), rows.end(), [](const AnomalyTableRow& row) {
    return row.miou13.has_value() || row.miou11.has_value();
  });
  std::size_t name_width = display_width("method");
  for (const AnomalyTableRow& row : rows) name_width = std::max(name_width, display_width(row.name));
  constexpr std::size_t kNumber = 9;

  const auto line = [&](const std::string& name, const std::vector<std::string>& cells, const std::string& tail) {
    std::string text = pad_right(name, name_width);
    for (const std::string& cell : cells) text += pad_left(cell, kNumber);
    return text + (tail.empty() ? "" : "  " + tail) + "\n";
  };
  std::vector<std::string> header = {"AUPR ↑", "AUROC ↑", "FPR95 ↓"};
  if (with_miou) header.insert(header.end(), {"mIoU13", "mIoU11"});
  std::string table = line("method", header, "images");
  bool paper_rule_drawn = false;
  for (const AnomalyTableRow& row : rows) {
    std::vector<std::string> cells = {percent(row.result.aupr), percent(row.result.auroc), percent(row.result.fpr95)};
    if (with_miou) cells.insert(cells.end(), {optional_percent(row.miou13), optional_percent(row.miou11)});
    std::string images = std::to_string(row.result.images);
    if (row.result.skipped_images > 0) images += " (" + std::to_string(row.result.skipped_images) + " skipped)";
    if (row.source == RowSource::Paper) {
      if (!paper_rule_drawn)
        table += std::string(name_width + cells.size() * kNumber, '-') +
                 "\nthe paper's Table 1 (StreetHazards test; mIoU11 from its Table 2):\n";
      paper_rule_drawn = true;
      images = "";
    }
    table += line(row.name, cells, images);
  }
  return table;
}

nlohmann::json anomaly_json(const std::vector<AnomalyTableRow>& rows) {
  nlohmann::json scores = nlohmann::json::object();
  for (const AnomalyTableRow& row : rows) {
    if (row.source != RowSource::Measured) continue;
    PANS_CHECK(!scores.contains(row.name), "anomaly_json: two rows are named '", row.name, "'");
    const AnomalyResult& result = row.result;
    const PooledCurves pooled = result.pooled.curves();
    nlohmann::json entry = {{"auroc", result.auroc},
                            {"aupr", result.aupr},
                            {"fpr95", result.fpr95},
                            {"images", result.images},
                            {"skipped_images", result.skipped_images},
                            {"skipped", result.skipped},
                            {"pooled_auroc", 100 * pooled.auroc},
                            {"pooled_aupr", 100 * pooled.average_precision}};
    if (row.miou13) entry["miou13"] = *row.miou13;
    if (row.miou11) entry["miou11"] = *row.miou11;
    scores[row.name] = entry;
  }
  return {{"protocol",
           "CAOS (StreetHazards): per image over all pixels, positives = class 13 (PNG 14), higher score = more "
           "anomalous; AUROC and AUPR as scikit-learn's roc_auc_score and average_precision_score, FPR95 as "
           "Hendrycks' fpr_and_fdr_at_recall(0.95); images with one class only skipped; mean over images x 100. "
           "pooled_*: the same pixels pooled over all images, binned into " +
               std::to_string(ScoreHistogram::kBins) + " score bins"},
          {"scores", scores}};
}

}  // namespace pans
