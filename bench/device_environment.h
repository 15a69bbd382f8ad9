// What a measurement ran on: the device, its clocks, the driver and library versions.
#pragma once

#include <nlohmann/json.hpp>

namespace pans::bench {

// nvidia-smi's clocks, power and temperature now, as its CSV; "unavailable (nvidia-smi)" without it.
nlohmann::json clocks_now(int device);

nlohmann::json environment(int device);

}  // namespace pans::bench
