#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <unordered_map>

#include "tensor/allocator.h"
#include "tensor/cuda_runtime.h"
#include "tensor/error.h"
#include "tensor/memory_stats_tracker.h"

namespace pans {
namespace {

// 64 bytes: a cache line, and enough for any SIMD load the CPU code may use.
constexpr std::size_t kHostAlignment = 64;
// A freed block serves a later request of at least half its size: a training step asks for the
// same sizes every iteration, and the slack lets nearby sizes (another crop, the last batch of a
// split) reuse a block instead of growing the cache.
constexpr std::size_t kMaxSlack = 2;
// Idle cached bytes above this go back to the system, so that one large transient (a validation
// image at full resolution) does not stay held for the rest of the process.
constexpr std::size_t kMaxCachedBytes = std::size_t(2) << 30;

// A caching host allocator, the CPU counterpart of the CUDA pool's: freed blocks are kept and
// handed out again, so that a training step reuses the previous step's memory instead of asking
// the system for fresh pages (glibc serves blocks above its mmap threshold with mmap and returns
// them on free: every step then page-faulted its activations in again, ~21 MB a step and a third
// of the run's time in the kernel). Blocks are 64-byte aligned and sized in multiples of 64.
// Thread-safe: the data loader's workers allocate their batches concurrently with the step.
class CpuAllocator final : public Allocator {
 public:
  void* allocate(std::size_t bytes) override {
    if (bytes == 0) return nullptr;
    const std::size_t rounded = (bytes + kHostAlignment - 1) / kHostAlignment * kHostAlignment;
    std::lock_guard<std::mutex> lock(mutex_);
    void* pointer = nullptr;
    std::size_t size = rounded;
    const auto fit = free_.lower_bound(rounded);
    if (fit != free_.end() && fit->first <= kMaxSlack * rounded) {
      size = fit->first;
      pointer = fit->second;
      cached_bytes_ -= size;
      free_.erase(fit);
    } else {
      pointer = std::aligned_alloc(kHostAlignment, rounded);
      if (pointer == nullptr) {  // give the cache back and try once more
        release_cache();
        pointer = std::aligned_alloc(kHostAlignment, rounded);
      }
      PANS_CHECK(pointer != nullptr, "cpu allocator: out of host memory allocating ", bytes, " bytes");
    }
    block_sizes_[pointer] = size;
    tracker_.on_allocate(bytes);
    return pointer;
  }
  void deallocate(void* pointer, std::size_t bytes) override {
    if (pointer == nullptr) return;
    std::lock_guard<std::mutex> lock(mutex_);
    const auto block = block_sizes_.find(pointer);
    PANS_CHECK(block != block_sizes_.end(), "cpu allocator: freeing a pointer it did not allocate");
    const std::size_t size = block->second;
    block_sizes_.erase(block);
    if (cached_bytes_ + size <= kMaxCachedBytes) {
      free_.emplace(size, pointer);
      cached_bytes_ += size;
    } else {
      std::free(pointer);
    }
    tracker_.on_deallocate(bytes);
  }
  MemoryStats stats() const override { return tracker_.stats(); }
  void reset_peak() override { tracker_.reset_peak(); }

 private:
  void release_cache() {
    for (const auto& [size, pointer] : free_) std::free(pointer);
    free_.clear();
    cached_bytes_ = 0;
  }

  std::mutex mutex_;
  std::multimap<std::size_t, void*> free_;            // idle blocks by size
  std::unordered_map<void*, std::size_t> block_sizes_;  // live blocks' sizes (>= the request)
  std::size_t cached_bytes_ = 0;
  MemoryStatsTracker tracker_;
};

}  // namespace

Allocator& allocator_for(Device device) {
  // Never destroyed: a tensor held by another static may be freed after this one's destructor
  // would have run; the system takes the memory back at exit.
  static CpuAllocator* cpu = new CpuAllocator;
  if (device.is_cpu()) return *cpu;
  return cuda_allocator(device.index);
}

}  // namespace pans
