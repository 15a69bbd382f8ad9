#include "tensor/device.h"

#include "tensor/error.h"

namespace pans {

Device parse_device(const std::string& text) {
  if (text == "cpu") return Device::cpu();
  if (text == "cuda") return Device::cuda(0);
  if (text.rfind("cuda:", 0) == 0) {
    const std::string index = text.substr(5);
    const bool digits = !index.empty() && index.find_first_not_of("0123456789") == std::string::npos;
    PANS_CHECK(digits, "device '", text, "': expected cpu, cuda or cuda:N");
    return Device::cuda(std::stoi(index));
  }
  PANS_FAIL("device '", text, "': expected cpu, cuda or cuda:N");
}

}  // namespace pans
