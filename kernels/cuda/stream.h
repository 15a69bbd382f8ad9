// Streams and events as move-only RAII types: created checked, destroyed in the destructor (which
// only logs a failure: destructors do not throw). Host-side, usable from any translation unit of a
// CUDA build, native or emulated.
#pragma once

#include <cuda_runtime_api.h>

#include <cstdio>
#include <utility>

#include "tensor/cuda_check.h"

namespace pans::cuda {

class Stream {
 public:
  Stream() { PANS_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
  ~Stream() {
    if (stream_ != nullptr && cudaStreamDestroy(stream_) != cudaSuccess)
      std::fprintf(stderr, "pans: cudaStreamDestroy failed\n");
  }
  Stream(Stream&& other) noexcept : stream_(std::exchange(other.stream_, nullptr)) {}
  Stream& operator=(Stream&& other) noexcept {
    std::swap(stream_, other.stream_);
    return *this;
  }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;

  cudaStream_t get() const { return stream_; }
  void synchronize() const { PANS_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

 private:
  cudaStream_t stream_ = nullptr;
};

class Event {
 public:
  Event() { PANS_CUDA_CHECK(cudaEventCreateWithFlags(&event_, cudaEventDefault)); }
  ~Event() {
    if (event_ != nullptr && cudaEventDestroy(event_) != cudaSuccess)
      std::fprintf(stderr, "pans: cudaEventDestroy failed\n");
  }
  Event(Event&& other) noexcept : event_(std::exchange(other.event_, nullptr)) {}
  Event& operator=(Event&& other) noexcept {
    std::swap(event_, other.event_);
    return *this;
  }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  cudaEvent_t get() const { return event_; }
  void record(cudaStream_t stream) { PANS_CUDA_CHECK(cudaEventRecord(event_, stream)); }
  void synchronize() const { PANS_CUDA_CHECK(cudaEventSynchronize(event_)); }
  // Makes `stream` wait for this event's work (cross-stream ordering without a host sync).
  void block(cudaStream_t stream) const { PANS_CUDA_CHECK(cudaStreamWaitEvent(stream, event_, 0)); }
  // Milliseconds from `start` to this event, both recorded and completed.
  float milliseconds_since(const Event& start) const {
    float milliseconds = 0;
    PANS_CUDA_CHECK(cudaEventElapsedTime(&milliseconds, start.event_, event_));
    return milliseconds;
  }

 private:
  cudaEvent_t event_ = nullptr;
};

}  // namespace pans::cuda
