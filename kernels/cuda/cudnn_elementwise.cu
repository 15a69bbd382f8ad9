// The elementwise kernels of kernels/cuda/cudnn_elementwise.h. One pattern for the activation-sized
// ones: a grid-stride loop over 16-byte vectors (4 float32 or 8 bfloat16), then the count % vector
// tail element by element. Bound: bandwidth, (bytes in + bytes out) per element and a few
// instructions; 16-byte accesses keep the memory pipes full with few instructions in flight, as
// PyTorch's vectorized elementwise kernels do. Preconditions: 16-byte aligned pointers (checked on
// the host). The per-channel glue of InPlace-ABN's weight touches C values: one thread each.
#include <cstdint>
#include <cstring>

#include "kernels/cuda/cudnn_elementwise.h"
#include "kernels/cuda/grid_stride.h"
#include "kernels/cuda/launch.h"
#include "kernels/shared/float_storage.h"
#include "tensor/error.h"

namespace pans::cuda {
namespace {

constexpr unsigned kThreads = 256;

template <class T>
struct Vector {
  static constexpr int kLanes = int(16 / sizeof(T));
  T lane[kLanes];
};

template <class T>
__device__ __forceinline__ Vector<T> load_vector(const T* base, std::int64_t index) {
  const uint4 packed = reinterpret_cast<const uint4*>(base)[index];
  Vector<T> vector;
  std::memcpy(&vector, &packed, sizeof(packed));
  return vector;
}

template <class T>
__device__ __forceinline__ void store_vector(T* base, std::int64_t index, const Vector<T>& vector) {
  uint4 packed;
  std::memcpy(&packed, &vector, sizeof(packed));
  reinterpret_cast<uint4*>(base)[index] = packed;
}

__device__ __forceinline__ float leaky(float v, float slope) { return v >= 0.0f ? v : v * slope; }
__device__ __forceinline__ float leaky_grad(float z, float dz, float slope) { return z > 0.0f ? dz : dz * slope; }

// y = leaky_relu(x). Mapping: thread t handles vectors t, t + grid, ...; then tail elements.
// Bound: bandwidth, 2 sizeof(T) bytes per element.
template <class T>
__global__ void leaky_relu_forward_vectorized(const T* x, T* y, std::int64_t count, float slope) {
  constexpr int kLanes = Vector<T>::kLanes;
  const std::int64_t vectors = count / kLanes;
  for (std::int64_t i : grid_stride_range(vectors)) {
    Vector<T> v = load_vector(x, i);
    for (int lane = 0; lane < kLanes; ++lane)
      store_from_float(&v.lane[lane], leaky(load_as_float(&v.lane[lane]), slope));
    store_vector(y, i, v);
  }
  for (std::int64_t i : grid_stride_range(vectors * kLanes, count))
    store_from_float(&y[i], leaky(load_as_float(&x[i]), slope));
}

// dx = dz where z > 0, slope dz elsewhere. Mapping as above. Bound: bandwidth, 3 sizeof(T) bytes
// per element.
template <class T>
__global__ void leaky_relu_backward_vectorized(const T* z, const T* dz, T* dx, std::int64_t count, float slope) {
  constexpr int kLanes = Vector<T>::kLanes;
  const std::int64_t vectors = count / kLanes;
  for (std::int64_t i : grid_stride_range(vectors)) {
    const Vector<T> zv = load_vector(z, i);
    Vector<T> g = load_vector(dz, i);
    for (int lane = 0; lane < kLanes; ++lane)
      store_from_float(&g.lane[lane], leaky_grad(load_as_float(&zv.lane[lane]), load_as_float(&g.lane[lane]), slope));
    store_vector(dx, i, g);
  }
  for (std::int64_t i : grid_stride_range(vectors * kLanes, count))
    store_from_float(&dx[i], leaky_grad(load_as_float(&z[i]), load_as_float(&dz[i]), slope));
}

// dst = bf16(src): reads 4 float32 vectors' worth per bf16 vector. Mapping: thread per 8 outputs.
// Bound: bandwidth, 6 bytes per element.
__global__ void convert_float_to_bf16_vectorized(const float* src, bf16* dst, std::int64_t count) {
  constexpr int kLanes = Vector<bf16>::kLanes;
  const std::int64_t vectors = count / kLanes;
  for (std::int64_t i : grid_stride_range(vectors)) {
    const Vector<float> low = load_vector(src, 2 * i), high = load_vector(src, 2 * i + 1);
    Vector<bf16> out;
    for (int lane = 0; lane < 4; ++lane) {
      out.lane[lane] = float_to_bf16(low.lane[lane]);
      out.lane[lane + 4] = float_to_bf16(high.lane[lane]);
    }
    store_vector(dst, i, out);
  }
  for (std::int64_t i : grid_stride_range(vectors * kLanes, count)) dst[i] = float_to_bf16(src[i]);
}

// dst += float(src). Mapping: thread per 8 elements. Bound: bandwidth, 10 bytes per element.
__global__ void accumulate_bf16_into_float_vectorized(const bf16* src, float* dst, std::int64_t count) {
  constexpr int kLanes = Vector<bf16>::kLanes;
  const std::int64_t vectors = count / kLanes;
  for (std::int64_t i : grid_stride_range(vectors)) {
    const Vector<bf16> in = load_vector(src, i);
    Vector<float> low = load_vector(dst, 2 * i), high = load_vector(dst, 2 * i + 1);
    for (int lane = 0; lane < 4; ++lane) {
      low.lane[lane] += bf16_to_float(in.lane[lane]);
      high.lane[lane] += bf16_to_float(in.lane[lane + 4]);
    }
    store_vector(dst, 2 * i, low);
    store_vector(dst, 2 * i + 1, high);
  }
  for (std::int64_t i : grid_stride_range(vectors * kLanes, count)) dst[i] += bf16_to_float(src[i]);
}

// scale = |w| + eps. Mapping: thread per channel, grid-stride. Bound: latency (C is at most 4096).
__global__ void iabn_scale_from_weight_kernel(const float* w, float* scale, std::int64_t channels, float eps) {
  for (std::int64_t c : grid_stride_range(channels)) scale[c] = fabsf(w[c]) + eps;
}

// dw += sign(w) dscale, sign(0) = +1. Mapping and bound as above.
__global__ void accumulate_weight_gradient_from_scale_kernel(const float* w, const float* dscale, float* dw,
                                                             std::int64_t channels) {
  for (std::int64_t c : grid_stride_range(channels)) dw[c] += w[c] < 0.0f ? -dscale[c] : dscale[c];
}

void require_aligned(const char* op, std::initializer_list<const void*> pointers) {
  for (const void* pointer : pointers)
    PANS_CHECK(reinterpret_cast<std::uintptr_t>(pointer) % 16 == 0, op, ": pointer ", pointer,
               " is not 16-byte aligned");
}

unsigned blocks_for(std::int64_t count, int lanes) { return grid_for((count + lanes - 1) / lanes, kThreads); }

}  // namespace

void convert_float_to_bf16(const float* src, bf16* dst, std::int64_t count) {
  if (count <= 0) return;
  require_aligned("convert_float_to_bf16", {src, dst});
  launch("convert_float_to_bf16_vectorized", convert_float_to_bf16_vectorized, blocks_for(count, 8), kThreads, 0,
         cudaStreamLegacy, src, dst, count);
}

void accumulate_bf16_into_float(const bf16* src, float* dst, std::int64_t count) {
  if (count <= 0) return;
  require_aligned("accumulate_bf16_into_float", {src, dst});
  launch("accumulate_bf16_into_float_vectorized", accumulate_bf16_into_float_vectorized, blocks_for(count, 8), kThreads,
         0, cudaStreamLegacy, src, dst, count);
}

template <class T>
void leaky_relu_forward(const T* x, T* y, std::int64_t count, float slope) {
  if (count <= 0) return;
  require_aligned("leaky_relu_forward", {x, y});
  launch("leaky_relu_forward_vectorized", leaky_relu_forward_vectorized<T>, blocks_for(count, Vector<T>::kLanes),
         kThreads, 0, cudaStreamLegacy, x, y, count, slope);
}

template <class T>
void leaky_relu_backward(const T* z, const T* dz, T* dx, std::int64_t count, float slope) {
  if (count <= 0) return;
  require_aligned("leaky_relu_backward", {z, dz, dx});
  launch("leaky_relu_backward_vectorized", leaky_relu_backward_vectorized<T>, blocks_for(count, Vector<T>::kLanes),
         kThreads, 0, cudaStreamLegacy, z, dz, dx, count, slope);
}

void iabn_scale_from_weight(const float* w, float* scale, std::int64_t channels, float eps) {
  if (channels <= 0) return;
  launch("iabn_scale_from_weight_kernel", iabn_scale_from_weight_kernel, grid_for(channels, kThreads), kThreads, 0,
         cudaStreamLegacy, w, scale, channels, eps);
}

void accumulate_weight_gradient_from_scale(const float* w, const float* dscale, float* dw, std::int64_t channels) {
  if (channels <= 0) return;
  launch("accumulate_weight_gradient_from_scale_kernel", accumulate_weight_gradient_from_scale_kernel,
         grid_for(channels, kThreads), kThreads, 0, cudaStreamLegacy, w, dscale, dw, channels);
}

template void leaky_relu_forward<float>(const float*, float*, std::int64_t, float);
template void leaky_relu_forward<bf16>(const bf16*, bf16*, std::int64_t, float);
template void leaky_relu_backward<float>(const float*, const float*, float*, std::int64_t, float);
template void leaky_relu_backward<bf16>(const bf16*, const bf16*, bf16*, std::int64_t, float);

}  // namespace pans::cuda
