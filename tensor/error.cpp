#include "tensor/error.h"

namespace pans::detail {

void throw_error(const char* file, int line, const std::string& message) {
  std::string location = file;
  // Report paths relative to the repository, not the build machine.
  for (const char* top : {"/config/", "/tensor/", "/kernels/", "/layers/", "/models/", "/optim/", "/data/", "/train/", "/eval/",
                          "/dist/", "/apps/", "/tests/", "/bench/"}) {
    const auto at = location.rfind(top);
    if (at != std::string::npos) {
      location = location.substr(at + 1);
      break;
    }
  }
  throw Error(message + " [" + location + ":" + std::to_string(line) + "]");
}

}  // namespace pans::detail
