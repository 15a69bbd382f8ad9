// The JSON-lines metrics log of a training run (<out>/metrics.jsonl): one object per line, each with
// a "type" ("start", "train", "validation"), flushed as it is written so that a crash loses nothing
// already logged and `tail -f` or a plotting script sees every line at once. A resumed run appends.
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace pans {

class MetricsLog {
 public:
  explicit MetricsLog(const std::string& path);
  void write(const nlohmann::json& record);

 private:
  std::string path_;
  std::ofstream file_;
};

}  // namespace pans
