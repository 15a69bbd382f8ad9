#include "train/metrics_log.h"

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

}  // namespace pans
