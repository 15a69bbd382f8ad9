#include <cstdlib>
#include <new>

#include "tensor/allocator.h"
#include "tensor/cuda_runtime.h"
#include "tensor/error.h"
#include "tensor/memory_stats_tracker.h"

namespace pans {
namespace {

// 64 bytes: a cache line, and enough for any SIMD load the CPU code may use.
constexpr std::size_t kHostAlignment = 64;

class CpuAllocator final : public Allocator {
 public:
  void* allocate(std::size_t bytes) override {
    if (bytes == 0) return nullptr;
    const std::size_t rounded = (bytes + kHostAlignment - 1) / kHostAlignment * kHostAlignment;
    void* pointer = std::aligned_alloc(kHostAlignment, rounded);
    PANS_CHECK(pointer != nullptr, "cpu allocator: out of host memory allocating ", bytes, " bytes");
    tracker_.on_allocate(bytes);
    return pointer;
  }
  void deallocate(void* pointer, std::size_t bytes) override {
    if (pointer == nullptr) return;
    std::free(pointer);
    tracker_.on_deallocate(bytes);
  }
  MemoryStats stats() const override { return tracker_.stats(); }
  void reset_peak() override { tracker_.reset_peak(); }

 private:
  MemoryStatsTracker tracker_;
};

}  // namespace

Allocator& allocator_for(Device device) {
  static CpuAllocator cpu;
  if (device.is_cpu()) return cpu;
  return cuda_allocator(device.index);
}

}  // namespace pans
