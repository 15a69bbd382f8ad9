#include "bench/row_results.h"

#include <cstdio>

namespace pans::bench {

using nlohmann::json;

namespace {

json side_json(const Row& row, const Side& side, const Peaks& peaks, const std::string& algo) {
  json result;
  if (!algo.empty()) result["algo"] = algo;
  if (!side.error.empty()) {
    result["error"] = side.error;
    return result;
  }
  const Stats s = stats_of(side.ms);
  result["ms"] = stats_json(s);
  const double seconds = s.median * 1e-3;
  if (row.compute_bound) {
    const double tflops = row.flops / seconds / 1e12;
    const double peak = row.dtype == DType::BF16 ? peaks.bf16_tflops : peaks.tf32_tflops;
    result["tflops"] = tflops;
    result["pct_of_peak"] = 100.0 * tflops / peak;
    result["peak"] = row.dtype == DType::BF16 ? "gemm_bf16" : "gemm_tf32";
  } else {
    const double gbps = row.bytes / seconds / 1e9;
    result["gbps"] = gbps;
    result["pct_of_peak"] = 100.0 * gbps / peaks.copy_gbps;
    result["peak"] = "copy";
  }
  if (row.flops > 0 && !row.compute_bound) result["tflops"] = row.flops / seconds / 1e12;
  return result;
}

std::string fixed(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", digits, value);
  return text;
}

}  // namespace

json row_result(const Row& row, const Measured& m, const Peaks& peaks, int& failures, int& warnings) {
  json out;
  out["native"] = side_json(row, m.native, peaks, row.op == Op::Conv ? row.native : "");
  out["native"]["samples_ms"] = m.native.ms;
  if (m.has_library) {
    out["library"] = side_json(row, m.library, peaks, m.library_algo);
    out["library"]["samples_ms"] = m.library.ms;
    if (m.library.error.empty() && m.native.error.empty() && !m.native.ms.empty() && !m.library.ms.empty()) {
      const double ratio = stats_of(m.native.ms).median / stats_of(m.library.ms).median;
      out["ratio_native_to_library"] = ratio;
      out["speed_vs_library"] = 1.0 / ratio;
    }
    if (!m.library.error.empty()) ++warnings;
  }
  bool failed = !m.native.error.empty();
  if (!m.check.is_null()) {
    out["check"] = m.check;
    if (!m.check.value("ok", false)) failed = true;
  }
  out["status"] = failed ? "failed" : "ok";
  if (failed) ++failures;
  return out;
}

std::string progress_line(const Row& row, const json& result) {
  std::string line = row.id + ": ";
  auto side = [&](const char* name) {
    const json& s = result[name];
    if (s.contains("error")) return std::string(name) + " ERROR " + s["error"].get<std::string>().substr(0, 200);
    return std::string(name) + " " + fixed(s["ms"]["median"].get<double>(), 4) + " ms (" +
           fixed(s["pct_of_peak"].get<double>(), 1) + "% of " + s["peak"].get<std::string>() + ")";
  };
  line += side("native");
  if (result.contains("library")) line += ", " + side("library");
  if (result.contains("ratio_native_to_library"))
    line += ", ratio " + fixed(result["ratio_native_to_library"].get<double>(), 3);
  if (result.contains("check"))
    line += std::string(", check ") + (result["check"].value("ok", false) ? "ok" : "FAILED");
  return line;
}

}  // namespace pans::bench
