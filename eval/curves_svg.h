// ROC and precision-recall curves pooled over a test split (every pixel of the images used, from
// ScoreHistogram), one line per measured row of the table, as SVG files a browser or a paper can
// take as they are.
#pragma once

#include <string>
#include <vector>

#include "eval/anomaly_table.h"

namespace pans {

// Writes <folder>/roc.svg and <folder>/precision_recall.svg atomically, creating the folder; the
// legend gives each row's mean per-image value (the table's) and the pooled curve's own area.
void write_curves_svg(const std::string& folder, const std::vector<AnomalyTableRow>& rows);

}  // namespace pans
