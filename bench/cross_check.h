// The cross-check of a row: pans' outputs against the library's, after the timing.
#pragma once

#include <nlohmann/json.hpp>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace pans::bench {

// max |native - library| / max |library|: one number per tensor, infinite if native has a NaN or
// an infinity (an unwritten or broken output).
nlohmann::json compare(const std::vector<std::pair<Tensor, Tensor>>& pairs, double tolerance);

}  // namespace pans::bench
