// Nesterov SGD on the GPU: a kernel for one parameter tensor, and a fused multi-tensor kernel that
// steps every parameter of a model in one launch.
//
// Both apply PyTorch's order of operations (kernels/sgd.h) with the scalars rounded to float on
// the host, as the CPU oracle (kernels/cpu/sgd.cpp) does. Every multiply and add is written as
// __fmul_rn / __fadd_rn / __fsub_rn, which nvcc never contracts into an FMA, so each operation
// rounds exactly as the oracle's unfused host arithmetic (an x86-64 baseline build has no FMA to
// contract into) and the results equal the CPU's bit for bit.
//
// The fused step ("multi-tensor apply", as apex and torch._foreach do it) cuts every tensor into
// chunks of at most kChunkElements and gives each chunk one block. The chunk table lives in device
// memory, uploaded once per step, so a model with any number of parameters is one launch whose grid
// has enough blocks to fill the GPU (PyTorch passes its table by value in the 4 KB of kernel
// parameters, so it launches again every few dozen tensors or 320 chunks). The upload is a
// cudaMemcpyAsync from pageable memory on the launch's stream: CUDA stages the bytes before it
// returns (so the host vector may go) and orders the copy before the kernel, with no need to wait
// for the backward pass still running.
#include "kernels/cuda/float4_split.h"
#include "kernels/cuda/grid_stride.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/sgd.h"

namespace pans::cuda {
namespace {

constexpr unsigned int kThreads = 256;
// Elements per chunk of the fused step (a multiple of 4, so every chunk of a tensor has the same
// alignment as the tensor). On the GPU: 64 float4s per thread, PyTorch's chunk size. The emulator
// uses small chunks so that the tests' small tensors span several (as grid_for does for grids).
#ifdef PANS_SIMT_EMU
constexpr std::int64_t kChunkElements = 1024;
#else
constexpr std::int64_t kChunkElements = 65536;
#endif

struct SgdScalars {
  float lr, momentum, weight_decay;
  bool apply_weight_decay;  // the oracle tests the double weight_decay against 0, not its float
};

SgdScalars sgd_scalars(double lr, double momentum, double weight_decay) {
  return {float(lr), float(momentum), float(weight_decay), weight_decay != 0.0};
}

// One element of PyTorch's Nesterov update, each operation rounded on its own.
__device__ __forceinline__ void nesterov_update(float& param, float grad, float& buffer, const SgdScalars& s) {
  float d = grad;
  if (s.apply_weight_decay) d = __fadd_rn(d, __fmul_rn(s.weight_decay, param));
  buffer = __fadd_rn(__fmul_rn(s.momentum, buffer), d);
  d = __fadd_rn(d, __fmul_rn(s.momentum, buffer));
  param = __fsub_rn(param, __fmul_rn(s.lr, d));
}

// The update over `split` of one array triple: the float4s `vectors` visits, then the scalars of the
// head and tail `scalars` visits. Shared by both kernels, which differ only in how their threads
// stride over the split.
__device__ __forceinline__ void nesterov_update_range(float* param, const float* grad, float* buffer,
                                                      const Float4Split& split, StridedRange<std::int64_t> vectors,
                                                      StridedRange<std::int64_t> scalars, const SgdScalars& s) {
  float4* param4 = reinterpret_cast<float4*>(param + split.head);
  const float4* grad4 = reinterpret_cast<const float4*>(grad + split.head);
  float4* buffer4 = reinterpret_cast<float4*>(buffer + split.head);
  for (std::int64_t v : vectors) {
    float4 p = param4[v], b = buffer4[v];
    const float4 g = grad4[v];
    nesterov_update(p.x, g.x, b.x, s);
    nesterov_update(p.y, g.y, b.y, s);
    nesterov_update(p.z, g.z, b.z, s);
    nesterov_update(p.w, g.w, b.w, s);
    param4[v] = p;
    buffer4[v] = b;
  }
  for (std::int64_t k : scalars) {
    const std::int64_t i = split.scalar_index(k);
    nesterov_update(param[i], grad[i], buffer[i], s);
  }
}

// One Nesterov step over one tensor.
// Mapping: 1-D grid-stride loops over the float4s and then the scalars of split, one per thread per
// iteration. Shared memory: none. Bound: bandwidth, 20 bytes per element (param and buffer read
// and written, grad read) for 7 FLOPs.
// Preconditions: split = float4_split(count, {param, grad, momentum_buffer}); the three arrays do
// not overlap.
__global__ void sgd_nesterov_float4_grid_stride(float* param, const float* grad, float* momentum_buffer,
                                                Float4Split split, SgdScalars s) {
  nesterov_update_range(param, grad, momentum_buffer, split, grid_stride_range(split.vectors),
                        grid_stride_range(split.scalars), s);
}

// A piece of at most kChunkElements of one parameter tensor: its three arrays from the chunk's
// first element, and their float4 split.
struct SgdChunk {
  float* param;
  const float* grad;
  float* momentum_buffer;
  Float4Split split;
};

// One Nesterov step over every chunk of every parameter tensor.
// Mapping: one block per chunk (blockIdx.x indexes the table); the block's threads stride over the
// chunk's float4s and then its scalars. Whether a chunk is vectorised depends only on its own
// alignment, so misaligned views cost only their own chunks. Shared memory: none.
// Bound: bandwidth, 20 bytes per element as the single-tensor kernel, plus 48 bytes of table per
// block. Preconditions: gridDim.x = the table's length; no two chunks overlap.
__global__ void sgd_nesterov_multi_tensor_chunks(const SgdChunk* chunks, SgdScalars s) {
  const SgdChunk chunk = chunks[blockIdx.x];
  nesterov_update_range(chunk.param, chunk.grad, chunk.momentum_buffer, chunk.split,
                        block_stride_range(chunk.split.vectors), block_stride_range(chunk.split.scalars), s);
}

// Every tensor's chunks, tensor after tensor; an empty tensor has none.
std::vector<SgdChunk> chunk_table(const std::vector<SgdTensor>& tensors) {
  std::vector<SgdChunk> chunks;
  for (const SgdTensor& tensor : tensors)
    for (std::int64_t start = 0; start < tensor.count; start += kChunkElements) {
      const std::int64_t count = tensor.count - start < kChunkElements ? tensor.count - start : kChunkElements;
      SgdChunk chunk{tensor.param + start, tensor.grad + start, tensor.momentum_buffer + start, {}};
      chunk.split = float4_split(count, {chunk.param, chunk.grad, chunk.momentum_buffer});
      chunks.push_back(chunk);
    }
  return chunks;
}

}  // namespace

void sgd_nesterov_step(std::int64_t count, float* param, const float* grad, float* momentum_buffer, double lr,
                       double momentum, double weight_decay) {
  if (count == 0) return;
  const Float4Split split = float4_split(count, {param, grad, momentum_buffer});
  const std::int64_t work = split.vectors > split.scalars ? split.vectors : split.scalars;
  launch("sgd_nesterov_float4_grid_stride", sgd_nesterov_float4_grid_stride, grid_for(work, kThreads), kThreads, 0,
         cudaStreamLegacy, param, grad, momentum_buffer, split, sgd_scalars(lr, momentum, weight_decay));
}

std::size_t sgd_nesterov_step_all_table_bytes(const std::vector<SgdTensor>& tensors) {
  std::size_t chunks = 0;
  for (const SgdTensor& tensor : tensors) chunks += std::size_t((tensor.count + kChunkElements - 1) / kChunkElements);
  return chunks * sizeof(SgdChunk);
}

void sgd_nesterov_step_all(const std::vector<SgdTensor>& tensors, void* table, double lr, double momentum,
                           double weight_decay) {
  const std::vector<SgdChunk> chunks = chunk_table(tensors);
  if (chunks.empty()) return;
  PANS_CHECK(chunks.size() <= 0x7fffffffu, "sgd_nesterov_step_all: ", chunks.size(), " chunks exceed the grid");
  PANS_CUDA_CHECK(cudaMemcpyAsync(table, chunks.data(), chunks.size() * sizeof(SgdChunk), cudaMemcpyHostToDevice,
                                  cudaStreamLegacy));
  launch("sgd_nesterov_multi_tensor_chunks", sgd_nesterov_multi_tensor_chunks, unsigned(chunks.size()), kThreads, 0,
         cudaStreamLegacy, static_cast<const SgdChunk*>(table), sgd_scalars(lr, momentum, weight_decay));
}

}  // namespace pans::cuda
