#include "eval/progress.h"

#include <unistd.h>

#include <cstdio>

#include "metrics/duration.h"

namespace pans {

ProgressStyle progress_style_for(std::FILE* stream) {
  return ::isatty(::fileno(stream)) ? ProgressStyle::Redraw : ProgressStyle::Lines;
}

ProgressBar::ProgressBar(std::int64_t total, std::ostream& out, ProgressStyle style)
    : total_(total), out_(out), style_(style), start_(Clock::now()), last_line_(start_) {}

void ProgressBar::update(std::int64_t done) {
  const Clock::time_point now = Clock::now();
  const double seconds = std::chrono::duration<double>(now - start_).count();
  const bool last = done >= total_;
  if (style_ == ProgressStyle::Redraw) {
    // Trailing spaces wipe the end of a longer line drawn before (the ETA's width varies).
    out_ << '\r' << line(done, seconds) << "    " << (last ? "\n" : "");
  } else if (done == 1 || last || std::chrono::duration<double>(now - last_line_).count() >= kLineInterval) {
    out_ << line(done, seconds) << '\n';
    last_line_ = now;
  }
  out_.flush();
}

std::string ProgressBar::line(std::int64_t done, double seconds) const {
  constexpr int kWidth = 20;
  const int filled = total_ > 0 ? int(kWidth * done / total_) : kWidth;
  const double rate = seconds > 0 ? double(done) / seconds : 0;
  const std::string eta = done >= total_ ? "done in " + format_duration(seconds)
                          : rate > 0     ? "ETA " + format_duration(double(total_ - done) / rate)
                                         : "ETA ?";
  char text[160];
  std::snprintf(text, sizeof text, "[%s%s] %lld/%lld images  %.2f img/s  %s",
                std::string(std::size_t(filled), '#').c_str(), std::string(std::size_t(kWidth - filled), '.').c_str(),
                static_cast<long long>(done), static_cast<long long>(total_), rate, eta.c_str());
  return text;
}

}  // namespace pans
