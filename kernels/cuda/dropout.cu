// Dropout2d on the GPU: the channel mask drawn from Philox, and the mask applied to activations
// (forward y = x * mask and backward dx = dy * mask are the same kernel).
//
// The mask is a pure function of (seed, stream, n*C + c) compared with p in double, exactly as the
// CPU oracle (kernels/cpu/dropout.cpp) compares it, so the CUDA mask equals the CPU's bit for bit
// whatever the grid. The apply kernel does one float multiply per element, as the oracle does; on
// bfloat16 activations (mixed precision, the mask stays float32) it loads into float, multiplies,
// and rounds the product once to bfloat16.
#include "kernels/cuda/dropout.h"
#include "kernels/cuda/grid_stride.h"
#include "kernels/cuda/launch.h"
#include "kernels/shared/float_storage.h"
#include "tensor/philox.h"

namespace pans::cuda {
namespace {

constexpr unsigned int kThreads = 256;

// mask[i] = 0 (dropped) or keep_scale, for i = n*C + c over the {N,C} mask.
// Mapping: 1-D grid-stride loop, one mask element per thread per iteration. Shared memory: none.
// Bound: Philox (~100 integer operations per draw; a thread uses one word of its 4-word block) and
// 4 bytes stored per element; the mask has N*C elements, so this is microseconds in any case.
// Preconditions: 0 <= p < 1; keep_scale = float(1 / (1 - p)) rounded on the host as the oracle does.
__global__ void dropout2d_mask_philox_grid_stride(float* mask, std::int64_t count, double p, float keep_scale,
                                                  std::uint64_t seed, std::uint64_t stream) {
  for (std::int64_t i : grid_stride_range(count))
    mask[i] = double(philox_uniform(seed, stream, std::uint64_t(i))) < p ? 0.0f : keep_scale;
}

// out[i] = in[i] * mask[n*C + c] for element i = (n*pixels + pixel)*C + c of an {N,H,W,C} tensor.
// Mapping: 1-D grid-stride loop, one element per thread per iteration; n and c come from i by one
// division and one remainder in Index arithmetic. Neighbouring threads read neighbouring channels
// of the mask, which stays in L1/L2 (N*C floats).
// Shared memory: none. Bound: bandwidth, 2 * sizeof(T) bytes per element (load, store: 8 B for
// float32, 4 B for bfloat16) and one multiply.
// Preconditions: count + the grid's threads fits Index (see Dropout2dIndex); out may equal in (each thread reads its
// element before writing it).
template <class T, class Index>
__global__ void dropout2d_apply_channel_mask_grid_stride(const T* in, const float* mask, T* out, Index count,
                                                         Index image_elements, Index channels) {
  for (Index i : grid_stride_range(count))
    store_from_float(out + i, load_as_float(in + i) * mask[i / image_elements * channels + i % channels]);
}

}  // namespace

void dropout2d_mask(std::int64_t count, double p, std::uint64_t seed, std::uint64_t stream, float* mask) {
  if (count == 0) return;
  const float keep_scale = float(1.0 / (1.0 - p));
  launch("dropout2d_mask_philox_grid_stride", dropout2d_mask_philox_grid_stride, grid_for(count, kThreads), kThreads, 0,
         cudaStreamLegacy, mask, count, p, keep_scale, seed, stream);
}

template <class T>
void dropout2d_apply(std::int64_t batch, std::int64_t pixels, std::int64_t channels, const T* in, const float* mask,
                     T* out, Dropout2dIndex index) {
  const std::int64_t count = batch * pixels * channels;
  if (count == 0) return;
  const unsigned int blocks = grid_for(count, kThreads);
  if (index == Dropout2dIndex::Bits32) {
    PANS_CHECK(count <= std::int64_t(INT32_MAX), "dropout2d_apply: ", count, " elements need 64-bit indices");
    launch("dropout2d_apply_channel_mask_grid_stride<uint32>",
           dropout2d_apply_channel_mask_grid_stride<T, std::uint32_t>, blocks, kThreads, 0, cudaStreamLegacy, in, mask,
           out, std::uint32_t(count), std::uint32_t(pixels * channels), std::uint32_t(channels));
  } else {
    launch("dropout2d_apply_channel_mask_grid_stride<int64>", dropout2d_apply_channel_mask_grid_stride<T, std::int64_t>,
           blocks, kThreads, 0, cudaStreamLegacy, in, mask, out, count, pixels * channels, channels);
  }
}

template void dropout2d_apply<float>(std::int64_t, std::int64_t, std::int64_t, const float*, const float*, float*,
                                     Dropout2dIndex);
template void dropout2d_apply<bf16>(std::int64_t, std::int64_t, std::int64_t, const bf16*, const float*, bf16*,
                                    Dropout2dIndex);

}  // namespace pans::cuda
