// CPU-only build (-DPANS_CUDA=OFF) of tensor/cuda_runtime.h: host copies work, CUDA devices do not.
#include <cstring>

#include "tensor/cuda_runtime.h"
#include "tensor/error.h"

namespace pans {

namespace {
constexpr const char* kNoCuda = "pans was built without CUDA (-DPANS_CUDA=OFF or no nvcc found)";
}

int cuda_device_count() { return 0; }

std::string cuda_unavailable_reason() { return kNoCuda; }

std::string cuda_device_name(int index) { PANS_FAIL("cuda:", index, " is not usable: ", kNoCuda); }

Allocator& cuda_allocator(int index) { PANS_FAIL("cuda:", index, " is not usable: ", kNoCuda); }

void copy_bytes(void* destination, Device destination_device, const void* source, Device source_device,
                std::size_t bytes) {
  PANS_CHECK(destination_device.is_cpu() && source_device.is_cpu(), "copy ", source_device.str(), " -> ",
             destination_device.str(), ": ", kNoCuda);
  if (bytes != 0) std::memcpy(destination, source, bytes);
}

void zero_bytes(void* destination, Device device, std::size_t bytes) {
  PANS_CHECK(device.is_cpu(), "zero ", device.str(), ": ", kNoCuda);
  if (bytes != 0) std::memset(destination, 0, bytes);
}

}  // namespace pans
