// The progress display of loops over images (infer_pans on a folder, eval_pans on a split):
//   [#########...........]  12/40 images  3.1 img/s  ETA 9s
// On a terminal the line is redrawn in place after every image; into a file or pipe a line is
// printed after the first image, then at most every `kLineInterval` seconds, and at the end, so
// logs stay short.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ostream>
#include <string>

namespace pans {

enum class ProgressStyle { Redraw, Lines };

// Redraw when `stream` is a terminal (stdout or stderr), else Lines.
ProgressStyle progress_style_for(std::FILE* stream);

class ProgressBar {
 public:
  ProgressBar(std::int64_t total, std::ostream& out, ProgressStyle style);
  // Call after each item; prints as the style says. The last call (done == total) ends the line.
  void update(std::int64_t done);

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr double kLineInterval = 10.0;
  std::string line(std::int64_t done, double seconds) const;

  std::int64_t total_;
  std::ostream& out_;
  ProgressStyle style_;
  Clock::time_point start_, last_line_;
};

}  // namespace pans
