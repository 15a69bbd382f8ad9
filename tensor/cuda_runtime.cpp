// CUDA build of tensor/cuda_runtime.h.
#include "tensor/cuda_runtime.h"

#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "tensor/cuda_check.h"
#include "tensor/memory_stats_tracker.h"

namespace pans {
namespace {

struct DeviceDiscovery {
  int count = 0;
  std::string reason;
};

const DeviceDiscovery& discovery() {
  static const DeviceDiscovery result = [] {
    DeviceDiscovery found;
    const cudaError_t status = cudaGetDeviceCount(&found.count);
    if (status != cudaSuccess) {
      found.count = 0;
      found.reason = std::string("cudaGetDeviceCount: ") + cudaGetErrorString(status);
      cudaGetLastError();  // discovery failures are sticky only until read
    } else if (found.count == 0) {
      found.reason = "cudaGetDeviceCount found no CUDA device";
    }
    return found;
  }();
  return result;
}

// Allocations and frees are ordered on the legacy default stream, where every pans kernel runs;
// memory freed there is reused by later allocations on the same stream.
class CudaPoolAllocator final : public Allocator {
 public:
  explicit CudaPoolAllocator(int device) : device_(device) {
    CudaDeviceGuard guard(device_);
    cudaMemPool_t pool;
    PANS_CUDA_CHECK(cudaDeviceGetDefaultMemPool(&pool, device_));
    std::uint64_t keep_everything = UINT64_MAX;
    PANS_CUDA_CHECK(cudaMemPoolSetAttribute(pool, cudaMemPoolAttrReleaseThreshold, &keep_everything));
  }
  void* allocate(std::size_t bytes) override {
    if (bytes == 0) return nullptr;
    CudaDeviceGuard guard(device_);
    void* pointer = nullptr;
    const cudaError_t status = cudaMallocAsync(&pointer, bytes, cudaStreamLegacy);
    if (status == cudaErrorMemoryAllocation) fail_out_of_memory(bytes);
    PANS_CUDA_CHECK(status);
    tracker_.on_allocate(bytes);
    return pointer;
  }
  void deallocate(void* pointer, std::size_t bytes) override {
    if (pointer == nullptr) return;
    CudaDeviceGuard guard(device_);
    // A destructor path: report and carry on rather than throw.
    const cudaError_t status = cudaFreeAsync(pointer, cudaStreamLegacy);
    if (status != cudaSuccess) std::fprintf(stderr, "pans: cudaFreeAsync failed: %s\n", cudaGetErrorString(status));
    tracker_.on_deallocate(bytes);
  }
  MemoryStats stats() const override { return tracker_.stats(); }
  void reset_peak() override { tracker_.reset_peak(); }

 private:
  // What a user can act on (a smaller batch or crop, another device), instead of the runtime's
  // error code: the request, what the device has free, and what pans itself holds there.
  [[noreturn]] void fail_out_of_memory(std::size_t bytes) const {
    cudaGetLastError();  // an allocation failure is not sticky: later calls may succeed
    std::size_t free_bytes = 0, total_bytes = 0;
    const bool known = cudaMemGetInfo(&free_bytes, &total_bytes) == cudaSuccess;
    const MemoryStats held = tracker_.stats();
    PANS_FAIL("cuda:", device_, ": out of device memory: cannot allocate ", mebibytes(bytes), " (",
              known ? mebibytes(free_bytes) + " free of " + mebibytes(total_bytes) : std::string("free memory unknown"),
              "; pans holds ", mebibytes(held.current_bytes), " in ", held.allocation_count,
              " allocations, its peak was ", mebibytes(held.peak_bytes), ")");
  }
  static std::string mebibytes(std::size_t bytes) {
    char text[48];
    std::snprintf(text, sizeof text, "%.1f MiB", double(bytes) / double(1 << 20));
    return text;
  }

  int device_;
  MemoryStatsTracker tracker_;
};

}  // namespace

int cuda_device_count() { return discovery().count; }

std::string cuda_unavailable_reason() { return discovery().reason; }

std::string cuda_device_name(int index) {
  cudaDeviceProp properties;
  PANS_CUDA_CHECK(cudaGetDeviceProperties(&properties, index));
  return properties.name;
}

Allocator& cuda_allocator(int index) {
  PANS_CHECK(index >= 0 && index < cuda_device_count(), "cuda:", index, " is not usable: ",
             cuda_device_count() == 0 ? cuda_unavailable_reason()
                                      : std::to_string(cuda_device_count()) + " device(s) present");
  static std::mutex mutex;
  static std::vector<std::unique_ptr<CudaPoolAllocator>> allocators(cuda_device_count());
  std::lock_guard<std::mutex> lock(mutex);
  if (!allocators[index]) allocators[index] = std::make_unique<CudaPoolAllocator>(index);
  return *allocators[index];
}

void copy_bytes(void* destination, Device destination_device, const void* source, Device source_device,
                std::size_t bytes) {
  if (bytes == 0) return;
  if (destination_device.is_cpu() && source_device.is_cpu()) {
    std::memcpy(destination, source, bytes);
    return;
  }
  // cudaMemcpyDefault infers the direction from the unified address space. It is synchronous with
  // respect to the host, so the legacy-stream frees and kernels before it have finished.
  PANS_CUDA_CHECK(cudaMemcpy(destination, source, bytes, cudaMemcpyDefault));
}

void zero_bytes(void* destination, Device device, std::size_t bytes) {
  if (bytes == 0) return;
  if (device.is_cpu()) {
    std::memset(destination, 0, bytes);
    return;
  }
  CudaDeviceGuard guard(device.index);
  PANS_CUDA_CHECK(cudaMemsetAsync(destination, 0, bytes, cudaStreamLegacy));
}

}  // namespace pans
