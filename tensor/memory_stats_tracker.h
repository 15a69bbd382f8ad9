// Thread-safe bookkeeping shared by the CPU and CUDA allocators.
#pragma once

#include <cstddef>
#include <mutex>

#include "tensor/allocator.h"

namespace pans {

class MemoryStatsTracker {
 public:
  void on_allocate(std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.current_bytes += bytes;
    stats_.allocation_count += 1;
    if (stats_.current_bytes > stats_.peak_bytes) stats_.peak_bytes = stats_.current_bytes;
  }
  void on_deallocate(std::size_t bytes) {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.current_bytes -= bytes;
    stats_.allocation_count -= 1;
  }
  MemoryStats stats() const {
    std::lock_guard<std::mutex> lock(mutex_);
    return stats_;
  }
  void reset_peak() {
    std::lock_guard<std::mutex> lock(mutex_);
    stats_.peak_bytes = stats_.current_bytes;
  }

 private:
  mutable std::mutex mutex_;
  MemoryStats stats_;
};

}  // namespace pans
