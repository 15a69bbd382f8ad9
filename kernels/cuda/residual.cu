// Residual add + leaky ReLU on the GPU, forward and backward from the output.
//
// The arithmetic is the CPU oracle's (kernels/cpu/residual.cpp): float32 values widened to double,
// the shared formulas of kernels/shared/leaky_relu.h in double, one rounding back to float32. A sum
// of two floats is exact in double, the only product follows it (nothing for nvcc to contract into
// an FMA), and GPU double arithmetic rounds as the host's does, so the results equal the CPU's bit
// for bit. The double operations cost nothing visible here: a handful per 12 bytes of traffic,
// far below the FP64 rate even of GPUs with 1/64-rate FP64.
//
// bfloat16 storage (mixed precision) reuses that arithmetic on the widened bfloat16 values and
// rounds the float32 result once more, to nearest even, when it stores it: 6 bytes per element
// instead of 12. Its kernel is scalar (one 2-byte element per thread per iteration): a warp still
// moves 64 contiguous bytes per access, and the float4 split would need its own 16-byte
// alignment bookkeeping for 2-byte elements, for a kernel that is a small share of a step.
#include <type_traits>

#include "kernels/cuda/float4_split.h"
#include "kernels/cuda/grid_stride.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/residual.h"
#include "kernels/shared/float_storage.h"
#include "kernels/shared/leaky_relu.h"

namespace pans::cuda {
namespace {

constexpr unsigned int kThreads = 256;

__device__ __forceinline__ float add_leaky(float branch, float shortcut, double slope) {
  return float(leaky_relu(double(branch) + double(shortcut), slope));
}

__device__ __forceinline__ float leaky_gradient(float out, float dout, double slope) {
  return float(leaky_relu_gradient_from_output(double(out), double(dout), slope));
}

// out = leaky_relu(branch + shortcut, slope), elementwise.
// Mapping: 1-D grid-stride loops, first over the float4s of split (one float4 per thread per
// iteration), then over its scalar head and tail (one float per thread per iteration).
// Shared memory: none. Bound: bandwidth, 12 bytes per element (two loads, one store), ~3 FLOPs.
// Preconditions: split = float4_split(count, {branch, shortcut, out}); out may equal branch or
// shortcut: each thread reads an element (or a float4) before it writes the same one, and no two
// threads touch the same element.
__global__ void residual_add_leaky_forward_float4_grid_stride(const float* branch, const float* shortcut, float* out,
                                                              Float4Split split, double slope) {
  const float4* branch4 = reinterpret_cast<const float4*>(branch + split.head);
  const float4* shortcut4 = reinterpret_cast<const float4*>(shortcut + split.head);
  float4* out4 = reinterpret_cast<float4*>(out + split.head);
  for (std::int64_t v : grid_stride_range(split.vectors)) {
    const float4 b = branch4[v], s = shortcut4[v];
    out4[v] = make_float4(add_leaky(b.x, s.x, slope), add_leaky(b.y, s.y, slope), add_leaky(b.z, s.z, slope),
                          add_leaky(b.w, s.w, slope));
  }
  for (std::int64_t k : grid_stride_range(split.scalars)) {
    const std::int64_t i = split.scalar_index(k);
    out[i] = add_leaky(branch[i], shortcut[i], slope);
  }
}

// dinput = dout where out >= 0, slope * dout elsewhere: the gradient for both inputs of the add.
// Mapping, shared memory, bound and preconditions as the forward (split over {out, dout, dinput};
// dinput may equal dout).
__global__ void residual_add_leaky_backward_float4_grid_stride(const float* out, const float* dout, float* dinput,
                                                               Float4Split split, double slope) {
  const float4* out4 = reinterpret_cast<const float4*>(out + split.head);
  const float4* dout4 = reinterpret_cast<const float4*>(dout + split.head);
  float4* dinput4 = reinterpret_cast<float4*>(dinput + split.head);
  for (std::int64_t v : grid_stride_range(split.vectors)) {
    const float4 z = out4[v], dz = dout4[v];
    dinput4[v] = make_float4(leaky_gradient(z.x, dz.x, slope), leaky_gradient(z.y, dz.y, slope),
                             leaky_gradient(z.z, dz.z, slope), leaky_gradient(z.w, dz.w, slope));
  }
  for (std::int64_t k : grid_stride_range(split.scalars)) {
    const std::int64_t i = split.scalar_index(k);
    dinput[i] = leaky_gradient(out[i], dout[i], slope);
  }
}

// The forward on bfloat16 storage: out = bf16(add_leaky(branch, shortcut)), elementwise.
// Mapping: 1-D grid-stride loop, one element per thread per iteration. Shared memory: none.
// Bound: bandwidth, 6 bytes per element (two 2-byte loads, one 2-byte store), ~3 FLOPs.
// Preconditions: out may equal branch or shortcut (each thread reads its element, then writes it).
template <class T>
__global__ void residual_add_leaky_forward_scalar_grid_stride(const T* branch, const T* shortcut, T* out,
                                                              std::int64_t count, double slope) {
  for (std::int64_t i : grid_stride_range(count))
    store_from_float(out + i, add_leaky(load_as_float(branch + i), load_as_float(shortcut + i), slope));
}

// The backward on bfloat16 storage: dinput = bf16(leaky_gradient(out, dout)); dinput may equal
// dout. Mapping, shared memory and bound as the bfloat16 forward (6 bytes per element).
template <class T>
__global__ void residual_add_leaky_backward_scalar_grid_stride(const T* out, const T* dout, T* dinput,
                                                               std::int64_t count, double slope) {
  for (std::int64_t i : grid_stride_range(count))
    store_from_float(dinput + i, leaky_gradient(load_as_float(out + i), load_as_float(dout + i), slope));
}

// Threads for the larger of the two loops: a thread does about as many iterations in each.
unsigned int blocks_for(const Float4Split& split) {
  return grid_for(split.vectors > split.scalars ? split.vectors : split.scalars, kThreads);
}

}  // namespace

template <class T>
void residual_add_leaky_forward(std::int64_t count, const T* branch, const T* shortcut, T* out, double slope) {
  if (count == 0) return;
  if constexpr (std::is_same_v<T, float>) {
    const Float4Split split = float4_split(count, {branch, shortcut, out});
    launch("residual_add_leaky_forward_float4_grid_stride", residual_add_leaky_forward_float4_grid_stride,
           blocks_for(split), kThreads, 0, cudaStreamLegacy, branch, shortcut, out, split, slope);
  } else {
    launch("residual_add_leaky_forward_scalar_grid_stride<bf16>", residual_add_leaky_forward_scalar_grid_stride<T>,
           grid_for(count, kThreads), kThreads, 0, cudaStreamLegacy, branch, shortcut, out, count, slope);
  }
}

template <class T>
void residual_add_leaky_backward(std::int64_t count, const T* out, const T* dout, T* dinput, double slope) {
  if (count == 0) return;
  if constexpr (std::is_same_v<T, float>) {
    const Float4Split split = float4_split(count, {out, dout, dinput});
    launch("residual_add_leaky_backward_float4_grid_stride", residual_add_leaky_backward_float4_grid_stride,
           blocks_for(split), kThreads, 0, cudaStreamLegacy, out, dout, dinput, split, slope);
  } else {
    launch("residual_add_leaky_backward_scalar_grid_stride<bf16>", residual_add_leaky_backward_scalar_grid_stride<T>,
           grid_for(count, kThreads), kThreads, 0, cudaStreamLegacy, out, dout, dinput, count, slope);
  }
}

template void residual_add_leaky_forward<float>(std::int64_t, const float*, const float*, float*, double);
template void residual_add_leaky_forward<bf16>(std::int64_t, const bf16*, const bf16*, bf16*, double);
template void residual_add_leaky_backward<float>(std::int64_t, const float*, const float*, float*, double);
template void residual_add_leaky_backward<bf16>(std::int64_t, const bf16*, const bf16*, bf16*, double);

}  // namespace pans::cuda
