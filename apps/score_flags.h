// The flags of the scores that cost more than one pass, shared by eval_pans and infer_pans.
#pragma once

#include <CLI/CLI.hpp>

namespace pans {

inline void add_odin_flags(CLI::App& app, bool& odin, double& temperature, double& epsilon) {
  app.add_flag("--odin", odin,
               "ODIN: per scale, one backward to the input and a second forward of the input moved by epsilon "
               "against the gradient of its own argmax's cross-entropy at the temperature; adds the odin row");
  app.add_option("--odin-temperature", temperature, "ODIN's temperature T; default 1000")
      ->check(CLI::PositiveNumber);
  app.add_option("--odin-epsilon", epsilon, "ODIN's step on the normalised input; default 0.05")
      ->check(CLI::NonNegativeNumber);
}

}  // namespace pans
