// The device's peaks, calibrated at the start and at the end of a measured run.
#pragma once

#include <nlohmann/json.hpp>

#include "bench/device_data.h"
#include "bench/timer.h"

namespace pans::bench {

// The device-to-device copy bandwidth (bytes read + bytes written per second) and the cuBLAS GEMM
// rates that every row's percentage is taken against.
nlohmann::json calibrate(Data& data, Timer& timer, int runs);

struct Peaks {
  double copy_gbps = 0, tf32_tflops = 0, bf16_tflops = 0;
};

// The larger of the start and end calibrations (`end` null when there is none).
Peaks peaks_of(const nlohmann::json& start, const nlohmann::json& end);

}  // namespace pans::bench
