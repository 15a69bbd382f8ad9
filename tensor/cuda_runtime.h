// The host-side face of the CUDA runtime that the rest of pans sees. It is declared in every
// build; without CUDA (PANS_WITH_CUDA undefined) each call reports that pans was built without it,
// so CPU-only code never needs #ifdefs.
#pragma once

#include <cstddef>
#include <string>

#include "tensor/allocator.h"
#include "tensor/device.h"

namespace pans {

// Number of usable CUDA devices. Any failure of device discovery counts as "no GPU" (on a machine
// without a driver the runtime says "CUDA driver version is insufficient", not "no device").
int cuda_device_count();

// Why cuda_device_count() is 0, in the runtime's own words; empty when a device is usable.
std::string cuda_unavailable_reason();

// The device's name ("NVIDIA H100 80GB HBM3", or "pans SIMT emulator (CPU)" in the emulator build).
std::string cuda_device_name(int index);

// The caching allocator of CUDA device `index`; throws pans::Error when it cannot be used.
Allocator& cuda_allocator(int index);

// Copies bytes between any two devices (host<->device, device<->device); synchronous.
void copy_bytes(void* destination, Device destination_device, const void* source, Device source_device,
                std::size_t bytes);

// Sets every byte of a device range to zero.
void zero_bytes(void* destination, Device device, std::size_t bytes);

}  // namespace pans
