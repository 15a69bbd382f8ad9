// A row's results as bench_kernels reports them: its JSON (times, rates, percentage of the peak, the
// cross-check, the status) and its progress line.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "bench/calibration.h"
#include "bench/rows.h"
#include "bench/timer.h"

namespace pans::bench {

// A row's raw measurements, before the peaks of the end calibration are known.
struct Measured {
  Side native, library;
  bool has_library = false;
  std::string library_algo;
  nlohmann::json check;
};

// Counts a failed native side or cross-check in `failures`, a missing baseline in `warnings`.
nlohmann::json row_result(const Row& row, const Measured& m, const Peaks& peaks, int& failures, int& warnings);

// "res4.0.conv2 ... native 1.234 ms (45% of peak), library 0.987 ms, ratio 1.25"
std::string progress_line(const Row& row, const nlohmann::json& result);

}  // namespace pans::bench
