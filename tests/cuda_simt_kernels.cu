// Small kernels that exercise one SIMT primitive each. They run natively on a GPU and on the
// emulator from the same source, so whenever a GPU is present the emulator is checked against it.
#include "kernels/cuda/launch.h"
#include "tests/cuda_simt_kernels.h"

namespace pans::test {
namespace {

constexpr unsigned kFullMask = 0xffffffffu;

__global__ void shuffle_probe_kernel(ShuffleKind kind, int argument, int width, int* out) {
  const int lane = int(threadIdx.x);
  const int value = 100 + lane;
  int result = 0;
  switch (kind) {
    case ShuffleKind::Index:
      result = __shfl_sync(kFullMask, value, argument, width);
      break;
    case ShuffleKind::Up:
      result = __shfl_up_sync(kFullMask, value, unsigned(argument), width);
      break;
    case ShuffleKind::Down:
      result = __shfl_down_sync(kFullMask, value, unsigned(argument), width);
      break;
    case ShuffleKind::Xor:
      result = __shfl_xor_sync(kFullMask, value, argument, width);
      break;
  }
  out[lane] = result;
}

__global__ void vote_probe_kernel(const int* predicate, unsigned* out) {
  const int lane = int(threadIdx.x);
  const unsigned ballot = __ballot_sync(kFullMask, predicate[lane]);
  const int any = __any_sync(kFullMask, predicate[lane]);
  const int all = __all_sync(kFullMask, predicate[lane]);
  if (lane == 0) {
    out[0] = ballot;
    out[1] = unsigned(any);
    out[2] = unsigned(all);
  }
}

__global__ void syncwarp_probe_kernel(int* out) {
  __shared__ int shared[32];
  const int lane = int(threadIdx.x);
  shared[lane] = lane;
  __syncwarp();
  out[lane] = shared[31 - lane];
}

__global__ void neighbour_exchange_kernel(bool with_barrier, int* out) {
  int* shared = pans::cuda::dynamic_shared<int>();
  const int t = int(threadIdx.x), n = int(blockDim.x);
  shared[t] = t;
  if (with_barrier) __syncthreads();
  out[t] = shared[(t + 1) % n];
}

__global__ void reverse_kernel(const float* values, float* out) {
  float* shared = pans::cuda::dynamic_shared<float>();
  const int t = int(threadIdx.x), n = int(blockDim.x);
  shared[t] = values[t];
  __syncthreads();
  out[t] = shared[n - 1 - t];
}

__global__ void atomics_kernel(float* sum, int* maximum, unsigned* counter) {
  const int index = int(blockIdx.x * blockDim.x + threadIdx.x);
  atomicAdd(sum, 1.0f);
  atomicMax(maximum, index);
  unsigned seen = *counter, previous;
  do {
    previous = seen;
    seen = atomicCAS(counter, previous, previous + 1);
  } while (seen != previous);
}

__global__ void empty_kernel() {}

__global__ void divergent_barrier_kernel() {
  if (threadIdx.x % 2 == 0) {
    __syncthreads();
  } else {
    __syncthreads();
  }
}

__global__ void write_dynamic_shared_kernel(int index) {
  if (threadIdx.x == 0) pans::cuda::dynamic_shared<float>()[index] = 1.0f;
}

__global__ void write_element_kernel(float* values, int index) {
  if (threadIdx.x == 0) values[index] = 1.0f;
}

void finish() { PANS_CUDA_CHECK(cudaDeviceSynchronize()); }

}  // namespace

void shuffle_probe(ShuffleKind kind, int argument, int width, int* out) {
  cuda::launch("shuffle_probe_kernel", shuffle_probe_kernel, 1, 32, 0, cudaStreamLegacy, kind, argument, width, out);
  finish();
}

void vote_probe(const int* predicate, unsigned* out) {
  cuda::launch("vote_probe_kernel", vote_probe_kernel, 1, 32, 0, cudaStreamLegacy, predicate, out);
  finish();
}

void syncwarp_probe(int* out) {
  cuda::launch("syncwarp_probe_kernel", syncwarp_probe_kernel, 1, 32, 0, cudaStreamLegacy, out);
  finish();
}

void neighbour_exchange(int threads, bool with_barrier, int* out) {
  cuda::launch("neighbour_exchange_kernel", neighbour_exchange_kernel, 1, unsigned(threads),
               sizeof(int) * std::size_t(threads), cudaStreamLegacy, with_barrier, out);
  finish();
}

void reverse_through_dynamic_shared(int threads, const float* values, float* out) {
  cuda::launch("reverse_kernel", reverse_kernel, 1, unsigned(threads), sizeof(float) * std::size_t(threads),
               cudaStreamLegacy, values, out);
  finish();
}

void atomics_probe(int blocks, int threads, float* sum, int* maximum, unsigned* counter) {
  cuda::launch("atomics_kernel", atomics_kernel, unsigned(blocks), unsigned(threads), 0, cudaStreamLegacy, sum, maximum,
               counter);
  finish();
}

void launch_empty(unsigned grid, unsigned block, std::size_t dynamic_shared_bytes) {
  cuda::launch("empty_kernel", empty_kernel, grid, block, dynamic_shared_bytes, cudaStreamLegacy);
  finish();
}

void divergent_barrier(int threads) {
  cuda::launch("divergent_barrier_kernel", divergent_barrier_kernel, 1, unsigned(threads), 0, cudaStreamLegacy);
  finish();
}

void write_dynamic_shared(std::size_t bytes, int index) {
  cuda::launch("write_dynamic_shared_kernel", write_dynamic_shared_kernel, 1, 32, bytes, cudaStreamLegacy, index);
  finish();
}

}  // namespace pans::test

namespace pans::test {

void write_element(float* values, int index) {
  cuda::launch("write_element_kernel", write_element_kernel, 1, 32, 0, cudaStreamLegacy, values, index);
  finish();
}

}  // namespace pans::test
