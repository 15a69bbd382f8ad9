// The part of the CUDA runtime API that pans calls, implemented on the host for the emulator
// build, which links this instead of libcudart. There is one device of 80 GiB; device memory is host
// memory from malloc with the exact requested size (so AddressSanitizer sees every overrun); streams and
// events exist as handles, and every operation completes before it returns.
#include <cuda_runtime_api.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <unordered_map>

namespace {

thread_local cudaError_t last_error = cudaSuccess;

cudaError_t record(cudaError_t status) {
  if (status != cudaSuccess) last_error = status;
  return status;
}

// A recorded event is the host time at which it was recorded.
struct EmulatedEvent {
  std::chrono::steady_clock::time_point recorded;
};

int stream_tag;  // the address handed out as every stream handle

// The emulated device has an H100's 80 GiB: a request beyond what is free fails as cudaMallocAsync
// does on a GPU (cudaErrorMemoryAllocation), before any host memory is asked for, so that the
// out-of-memory path runs on the emulator too (under AddressSanitizer as well, which would abort on
// a host allocation that large).
constexpr size_t kEmulatedDeviceBytes = size_t(80) << 30;
struct DeviceMemory {
  std::mutex mutex;
  std::unordered_map<void*, size_t> sizes;
  size_t in_use = 0;
} memory;

}  // namespace

extern "C" {

const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess:
      return "cudaSuccess";
    case cudaErrorInvalidValue:
      return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation:
      return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidDevice:
      return "cudaErrorInvalidDevice";
    default:
      return "cudaErrorUnknown";
  }
}

const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess:
      return "no error";
    case cudaErrorInvalidValue:
      return "invalid argument";
    case cudaErrorMemoryAllocation:
      return "out of memory";
    case cudaErrorInvalidDevice:
      return "invalid device ordinal";
    default:
      return "unknown error";
  }
}

cudaError_t cudaGetLastError(void) {
  const cudaError_t error = last_error;
  last_error = cudaSuccess;
  return error;
}

cudaError_t cudaPeekAtLastError(void) { return last_error; }

cudaError_t cudaGetDeviceCount(int* count) {
  *count = 1;
  return cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  *device = 0;
  return cudaSuccess;
}

cudaError_t cudaSetDevice(int device) { return record(device == 0 ? cudaSuccess : cudaErrorInvalidDevice); }

cudaError_t cudaGetDeviceProperties(cudaDeviceProp* properties, int device) {
  if (device != 0) return record(cudaErrorInvalidDevice);
  std::memset(properties, 0, sizeof(*properties));
  std::strncpy(properties->name, "pans SIMT emulator (CPU)", sizeof(properties->name) - 1);
  properties->major = 9;
  properties->minor = 0;
  properties->multiProcessorCount = 1;
  properties->warpSize = 32;
  properties->maxThreadsPerBlock = 1024;
  properties->sharedMemPerBlock = 48 * 1024;
  properties->sharedMemPerBlockOptin = 227 * 1024;
  return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize(void) { return cudaSuccess; }

cudaError_t cudaDeviceGetDefaultMemPool(cudaMemPool_t* pool, int device) {
  if (device != 0) return record(cudaErrorInvalidDevice);
  *pool = reinterpret_cast<cudaMemPool_t>(&stream_tag);
  return cudaSuccess;
}

cudaError_t cudaMemPoolSetAttribute(cudaMemPool_t, cudaMemPoolAttr, void*) { return cudaSuccess; }

cudaError_t cudaMallocAsync(void** pointer, size_t bytes, cudaStream_t) {
  std::lock_guard<std::mutex> lock(memory.mutex);
  *pointer = nullptr;
  if (bytes > kEmulatedDeviceBytes - memory.in_use) return record(cudaErrorMemoryAllocation);
  *pointer = std::malloc(bytes);
  if (*pointer == nullptr && bytes != 0) return record(cudaErrorMemoryAllocation);
  memory.sizes[*pointer] = bytes;
  memory.in_use += bytes;
  return cudaSuccess;
}

cudaError_t cudaFreeAsync(void* pointer, cudaStream_t) {
  std::lock_guard<std::mutex> lock(memory.mutex);
  const auto found = memory.sizes.find(pointer);
  if (found != memory.sizes.end()) {
    memory.in_use -= found->second;
    memory.sizes.erase(found);
  }
  std::free(pointer);
  return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes) {
  std::lock_guard<std::mutex> lock(memory.mutex);
  *free_bytes = kEmulatedDeviceBytes - memory.in_use;
  *total_bytes = kEmulatedDeviceBytes;
  return cudaSuccess;
}

cudaError_t cudaMemcpy(void* destination, const void* source, size_t bytes, cudaMemcpyKind) {
  if (bytes != 0) std::memmove(destination, source, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* destination, const void* source, size_t bytes, cudaMemcpyKind, cudaStream_t) {
  if (bytes != 0) std::memmove(destination, source, bytes);
  return cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* destination, int value, size_t bytes, cudaStream_t) {
  if (bytes != 0) std::memset(destination, value, bytes);
  return cudaSuccess;
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int) {
  *stream = reinterpret_cast<cudaStream_t>(&stream_tag);
  return cudaSuccess;
}

cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }
cudaError_t cudaStreamWaitEvent(cudaStream_t, cudaEvent_t, unsigned int) { return cudaSuccess; }

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int) {
  *event = reinterpret_cast<cudaEvent_t>(new EmulatedEvent{});
  return cudaSuccess;
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  delete reinterpret_cast<EmulatedEvent*>(event);
  return cudaSuccess;
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t) {
  reinterpret_cast<EmulatedEvent*>(event)->recorded = std::chrono::steady_clock::now();
  return cudaSuccess;
}

cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }

cudaError_t cudaEventElapsedTime(float* milliseconds, cudaEvent_t start, cudaEvent_t end) {
  const auto span = reinterpret_cast<EmulatedEvent*>(end)->recorded - reinterpret_cast<EmulatedEvent*>(start)->recorded;
  *milliseconds = std::chrono::duration<float, std::milli>(span).count();
  return cudaSuccess;
}

}  // extern "C"
