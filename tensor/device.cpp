#include "tensor/device.h"

#include "tensor/cuda_runtime.h"
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

Device device_from_flag(const std::optional<std::string>& value, const std::string& flag) {
  if (!value) return cuda_device_count() > 0 ? Device::cuda(0) : Device::cpu();
  Device device;
  try {
    device = parse_device(*value);
  } catch (const Error& error) {
    throw Error(flag + ": " + error.what());
  }
  if (device.is_cuda() && device.index >= cuda_device_count()) {
    const std::string why = cuda_device_count() > 0 ? "" : ": " + cuda_unavailable_reason();
    PANS_FAIL(flag, " ", device.str(), ": no such GPU (", cuda_device_count(), " usable", why, ")");
  }
  return device;
}

}  // namespace pans
