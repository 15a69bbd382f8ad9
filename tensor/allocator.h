// Memory for tensors. Every device has one allocator; each reports the bytes currently held by
// tensors and the peak since the last reset, which benchmarks and train_pans print.
//
// CPU: 64-byte aligned host memory, freed blocks cached for reuse (cpu_allocator.cpp). CUDA:
// stream-ordered cudaMallocAsync from the device's default memory pool, with the release threshold
// raised so freed blocks stay cached in the pool instead of returning to the driver (the caching-pool behaviour of PyTorch's allocator, done by CUDA).
#pragma once

#include <cstddef>

#include "tensor/device.h"

namespace pans {

struct MemoryStats {
  std::size_t current_bytes = 0;
  std::size_t peak_bytes = 0;
  std::size_t allocation_count = 0;  // live allocations
};

class Allocator {
 public:
  virtual ~Allocator() = default;
  // A zero-byte request returns nullptr; deallocate(nullptr, 0) is a no-op.
  virtual void* allocate(std::size_t bytes) = 0;
  virtual void deallocate(void* pointer, std::size_t bytes) = 0;
  virtual MemoryStats stats() const = 0;
  virtual void reset_peak() = 0;
};

// The process-wide allocator of a device; throws pans::Error for a CUDA device when pans was built
// without CUDA or the device does not exist.
Allocator& allocator_for(Device device);

}  // namespace pans
