#include "train/metrics_log.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "tensor/error.h"

namespace pans {

MetricsLog::MetricsLog(const std::string& path) : path_(path), file_(path, std::ios::app) {
  PANS_CHECK(file_, path, ": cannot open the metrics log for appending");
}

void MetricsLog::write(const nlohmann::json& record) {
  file_ << record.dump() << '\n';
  file_.flush();
  PANS_CHECK(file_, path_, ": write failed");
}

std::string format_duration(double seconds) {
  const long long total = std::llround(std::max(0.0, seconds));
  char text[32];
  if (total >= 3600)
    std::snprintf(text, sizeof text, "%lldh%02lldm", total / 3600, total % 3600 / 60);
  else if (total >= 60)
    std::snprintf(text, sizeof text, "%lldm%02llds", total / 60, total % 60);
  else
    std::snprintf(text, sizeof text, "%llds", total);
  return text;
}

}  // namespace pans
