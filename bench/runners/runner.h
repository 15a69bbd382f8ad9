// The work of one row, set up by its op's runner (bench/runners/<op>_runner.cpp).
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "bench/device_data.h"
#include "bench/rows.h"

namespace pans::bench {

// What a row times: `native` (the public pans op, as training calls it) and, if the row has a
// baseline, `library`; `check`, if set, runs both once more and compares their outputs.
struct Runner {
  std::function<void()> native;
  std::function<void()> library;
  std::string library_algo;
  std::string library_error;  // set when the baseline could not even be prepared
  std::function<nlohmann::json()> check;
};

// The inputs and outputs of `row` allocated on the device and its sides set up. Throws when pans'
// side cannot be prepared; a baseline that cannot be is recorded in library_error and left unset.
std::unique_ptr<Runner> make_runner(const Row& row, Data& data);

}  // namespace pans::bench
