// InPlace-ABN on the GPU (the math is in kernels/iabn.h; the oracle is kernels/cpu/iabn.cpp). The
// activation-sized arrays (x, z, dz, dx) have the storage type T = float or pans::bf16; everything
// per channel (w, b, statistics, the gradient sums, dw, db, the reduction partials) is float32,
// and all arithmetic is float32: a bfloat16 element is widened on load (load_as_float) and the
// result rounded once, to nearest even, on store (store_from_float). The float instantiation is
// the float32 kernel unchanged; bfloat16 halves the activation bytes each kernel moves.
//
// One thread mapping serves every kernel over the activation: the {N,H,W,C} tensor is `rows` =
// N*H*W rows of C channels; a block is 32 x 8 threads, threadIdx.x takes 32 consecutive channels
// (one 128-byte segment of a row per warp, so loads and stores coalesce) and threadIdx.y one of 8
// rows; gridDim.x tiles the channels, gridDim.y splits the rows into chunks that each thread walks
// with a stride of gridDim.y * 8 rows. A thread thus owns one channel, so its per-channel constants
// sit in registers and no element needs an index division. Channel counts that are not multiples of
// 32 leave lanes of the last tile idle (pans' layers have multiples of 32).
//
// Reductions (batch statistics, the two gradient sums) never use float atomics: each block merges
// its threads in a fixed tree through shared memory and writes one partial per channel to a scratch
// buffer; a second small kernel merges each channel's partials in block order. The result depends
// only on the launch geometry, so repeated runs give identical bits.
//
// Backward reads the forward output z and never x: y = act^-1(z), dy = dz act'(y) and
// xhat = (y - b)/(|w| + eps) are recomputed in both passes instead of being stored, so the only
// full-size buffer written is dx, which may alias dz (each dx[i] is written by the thread that has
// just read dz[i]).
#include <algorithm>
#include <cmath>

#include "kernels/cuda/grid_stride.h"
#include "kernels/cuda/iabn.h"
#include "kernels/cuda/launch.h"
#include "kernels/shared/float_storage.h"
#include "kernels/shared/leaky_relu.h"
#include "kernels/shared/welford.h"
#include "tensor/dtype.h"

namespace pans::cuda {
namespace {

constexpr unsigned kChannelLanes = 32;     // threadIdx.x
constexpr unsigned kRowLanes = 8;          // threadIdx.y
constexpr unsigned kChannelThreads = 256;  // 1-D kernels over the channels
// Rows each thread walks at least, so a block amortises its setup and, in reductions, its merge.
constexpr std::int64_t kMinRowsPerThread = 4;
// Reduction blocks to aim for (about 8 per SM on an H100's 132 SMs); more would lengthen the
// sequential merge of partials without adding bandwidth.
constexpr std::int64_t kReductionBlocks = 1024;
constexpr std::int64_t kMaxGridY = 65535;

unsigned channel_tiles(std::int64_t channels) { return unsigned((channels + kChannelLanes - 1) / kChannelLanes); }

// Blocks along the rows of an elementwise pass.
unsigned elementwise_row_chunks(std::int64_t rows) {
  const std::int64_t chunks = grid_for(rows, unsigned(kRowLanes * kMinRowsPerThread));
  return unsigned(chunks < kMaxGridY ? chunks : kMaxGridY);
}

// Blocks along the rows of a reduction, i.e. partials per channel.
unsigned reduction_row_chunks(std::int64_t rows, std::int64_t channels) {
  const std::int64_t by_rows = grid_for(rows, unsigned(kRowLanes * kMinRowsPerThread));
  const std::int64_t by_occupancy = std::max<std::int64_t>(1, kReductionBlocks / channel_tiles(channels));
  return unsigned(std::min(by_rows, by_occupancy));
}

dim3 activation_block() { return dim3(kChannelLanes, kRowLanes); }

__device__ __forceinline__ std::int64_t thread_channel() {
  return std::int64_t(blockIdx.x) * kChannelLanes + threadIdx.x;
}
// The thread's rows of the activation mapping: one of its block's 8, the grid's gridDim.y chunks
// striding together.
__device__ __forceinline__ StridedRange<std::int64_t> thread_rows(std::int64_t rows) {
  return {std::int64_t(blockIdx.y) * kRowLanes + threadIdx.y, rows, std::int64_t(gridDim.y) * kRowLanes};
}

// ---- forward --------------------------------------------------------------------------------

// Per-block Welford statistics: partials[0|1|2][blockIdx.y][c] = (count, mean, M2) of the rows of
// chunk blockIdx.y in channel c.
// Mapping: the activation mapping above; each thread runs Welford over its strided rows of one
// channel, then the 8 row-threads of each channel merge by Chan's formula in a fixed tree.
// Shared: 3 x 8 x 32 floats (count, mean, M2 per thread), 3 KiB, static.
// Bound: bandwidth, sizeof(T) bytes read per element (4 float32, 2 bfloat16) against ~6 flops
// and one division: at 3.35 TB/s an H100 streams ~840 G float32 elements/s, and 132 SMs x 128
// lanes x 1.7 GHz leave ~30 instructions per element, enough for the division's ~10; bfloat16
// doubles the element rate and halves that budget, ~15, closer to compute-bound (neither
// measured on a GPU yet).
// Preconditions: blockDim = (32, 8); partials hold 3 * gridDim.y * channels floats.
template <class T>
__global__ void iabn_statistics_welford_partials(const T* x, std::int64_t rows, std::int64_t channels,
                                                 float* partials) {
  __shared__ float shared_count[kRowLanes][kChannelLanes];
  __shared__ float shared_mean[kRowLanes][kChannelLanes];
  __shared__ float shared_m2[kRowLanes][kChannelLanes];
  const std::int64_t c = thread_channel();
  WelfordState<float> state = {0.0f, 0.0f, 0.0f};
  if (c < channels)
    for (std::int64_t row : thread_rows(rows)) welford_add(state, load_as_float(x + row * channels + c));
  const unsigned lane = threadIdx.x, row_lane = threadIdx.y;
  shared_count[row_lane][lane] = state.count;
  shared_mean[row_lane][lane] = state.mean;
  shared_m2[row_lane][lane] = state.m2;
  __syncthreads();
  for (unsigned half = kRowLanes / 2; half > 0; half /= 2) {
    if (row_lane < half) {
      const WelfordState<float> low = {shared_count[row_lane][lane], shared_mean[row_lane][lane],
                                       shared_m2[row_lane][lane]};
      const WelfordState<float> high = {shared_count[row_lane + half][lane], shared_mean[row_lane + half][lane],
                                        shared_m2[row_lane + half][lane]};
      const WelfordState<float> merged = welford_merge(low, high);
      shared_count[row_lane][lane] = merged.count;
      shared_mean[row_lane][lane] = merged.mean;
      shared_m2[row_lane][lane] = merged.m2;
    }
    __syncthreads();
  }
  if (row_lane == 0 && c < channels) {
    const std::int64_t plane = std::int64_t(gridDim.y) * channels, at = std::int64_t(blockIdx.y) * channels + c;
    partials[at] = shared_count[0][lane];
    partials[plane + at] = shared_mean[0][lane];
    partials[2 * plane + at] = shared_m2[0][lane];
  }
}

// mean[c] and biased var[c] from the `chunks` Welford partials of channel c, merged in chunk order.
// Mapping: 1-D grid-stride loop, one thread per channel; reads partials[.][p][c] coalesced.
// Shared: none. Bound: latency; 3 * chunks * C floats read, tiny next to the activation.
// Preconditions: every channel has count >= 1 over its partials. Counts travel as float: exact up
// to 2^24 values per channel, and above that rounded by 6e-8 relative, harmless in the weights.
__global__ void iabn_statistics_merge_partials(const float* partials, std::int64_t chunks, std::int64_t channels,
                                               float* mean, float* var) {
  const std::int64_t plane = chunks * channels;
  for (std::int64_t c : grid_stride_range(channels)) {
    WelfordState<float> state = {0.0f, 0.0f, 0.0f};
    for (std::int64_t p = 0; p < chunks; ++p) {
      const std::int64_t at = p * channels + c;
      state = welford_merge(state, WelfordState<float>{partials[at], partials[plane + at], partials[2 * plane + at]});
    }
    mean[c] = state.mean;
    var[c] = state.m2 / state.count;
  }
}

// x <- leaky_relu((|w| + eps)(x - mean)/sqrt(var + eps) + b) in place.
// Mapping: the activation mapping; the thread's channel constants are computed once.
// Shared: none. Bound: bandwidth, 2 * sizeof(T) bytes per element (read + write: 8 B float32,
// 4 B bfloat16) against 3 flops.
// scale * (x - mean) + b rather than x * scale + shift: the folded shift would cancel against
// x * scale when |mean| >> std and lose the low bits of y. Preconditions: blockDim = (32, 8).
template <class T>
__global__ void iabn_normalize_affine_activation_inplace(T* x, std::int64_t rows, std::int64_t channels, const float* w,
                                                         const float* b, const float* mean, const float* var,
                                                         float negative_slope, float eps) {
  const std::int64_t c = thread_channel();
  if (c < channels) {
    const float scale = (fabsf(w[c]) + eps) / sqrtf(var[c] + eps), shift = b[c], center = mean[c];
    for (std::int64_t row : thread_rows(rows)) {
      T* const value = x + row * channels + c;
      store_from_float(value, leaky_relu(scale * (load_as_float(value) - center) + shift, negative_slope));
    }
  }
}

// Momentum update of the running statistics; the unbiasing factor count/(count - 1) comes from the
// host in double. Mapping: 1-D grid-stride loop, one thread per channel. Shared: none.
// Bound: launch latency (5 floats per channel).
__global__ void iabn_running_statistics_momentum(std::int64_t channels, float* running_mean, float* running_var,
                                                 const float* mean, const float* var, float momentum, float unbiasing) {
  for (std::int64_t c : grid_stride_range(channels)) {
    running_mean[c] = (1.0f - momentum) * running_mean[c] + momentum * mean[c];
    running_var[c] = (1.0f - momentum) * running_var[c] + momentum * var[c] * unbiasing;
  }
}

// ---- backward -------------------------------------------------------------------------------

// Per-block gradient sums: partials[0][blockIdx.y][c] = sum dy, partials[1][blockIdx.y][c] =
// sum xhat dy over the rows of chunk blockIdx.y, with y = act^-1(z), dy = dz act'(y),
// xhat = (y - b)/(|w| + eps) recomputed from z and dz.
// Mapping: the activation mapping; each thread sums its strided rows of one channel, then the 8
// row-threads of a channel add in a fixed tree. Shared: 2 x 8 x 32 floats, 2 KiB, static.
// Bound: bandwidth, 2 * sizeof(T) bytes read per element (8 B float32, 4 B bfloat16) against ~8
// flops (one division when z < 0). The sums are float32 for either storage.
// Preconditions: blockDim = (32, 8); partials hold 2 * gridDim.y * channels floats.
template <class T>
__global__ void iabn_backward_channel_sums_partials(const T* z, const T* dz, const float* w, const float* b,
                                                    std::int64_t rows, std::int64_t channels, float negative_slope,
                                                    float eps, float* partials) {
  __shared__ float shared_dy[kRowLanes][kChannelLanes];
  __shared__ float shared_xhat_dy[kRowLanes][kChannelLanes];
  const std::int64_t c = thread_channel();
  float sum_dy = 0.0f, sum_xhat_dy = 0.0f;
  if (c < channels) {
    const float inverse_gamma = 1.0f / (fabsf(w[c]) + eps), shift = b[c];
    for (std::int64_t row : thread_rows(rows)) {
      const std::int64_t i = row * channels + c;
      const float output = load_as_float(z + i);
      const float dy = leaky_relu_gradient_from_output(output, load_as_float(dz + i), negative_slope);
      const float xhat = (leaky_relu_input_from_output(output, negative_slope) - shift) * inverse_gamma;
      sum_dy += dy;
      sum_xhat_dy += xhat * dy;
    }
  }
  const unsigned lane = threadIdx.x, row_lane = threadIdx.y;
  shared_dy[row_lane][lane] = sum_dy;
  shared_xhat_dy[row_lane][lane] = sum_xhat_dy;
  __syncthreads();
  for (unsigned half = kRowLanes / 2; half > 0; half /= 2) {
    if (row_lane < half) {
      shared_dy[row_lane][lane] += shared_dy[row_lane + half][lane];
      shared_xhat_dy[row_lane][lane] += shared_xhat_dy[row_lane + half][lane];
    }
    __syncthreads();
  }
  if (row_lane == 0 && c < channels) {
    const std::int64_t plane = std::int64_t(gridDim.y) * channels, at = std::int64_t(blockIdx.y) * channels + c;
    partials[at] = shared_dy[0][lane];
    partials[plane + at] = shared_xhat_dy[0][lane];
  }
}

// sum_dy[c], sum_xhat_dy[c] (=) from the `chunks` partials of channel c added in chunk order, then
// db[c] += sum_dy[c] and dw[c] += sign(w[c]) sum_xhat_dy[c] with sign(0) = +1.
// Mapping: 1-D grid-stride loop, one thread per channel. Shared: none. Bound: latency.
__global__ void iabn_backward_merge_partials_accumulate_parameters(const float* partials, std::int64_t chunks,
                                                                   std::int64_t channels, const float* w, float* sum_dy,
                                                                   float* sum_xhat_dy, float* dw, float* db) {
  const std::int64_t plane = chunks * channels;
  for (std::int64_t c : grid_stride_range(channels)) {
    float dy_total = 0.0f, xhat_dy_total = 0.0f;
    for (std::int64_t p = 0; p < chunks; ++p) {
      dy_total += partials[p * channels + c];
      xhat_dy_total += partials[plane + p * channels + c];
    }
    sum_dy[c] = dy_total;
    sum_xhat_dy[c] = xhat_dy_total;
    db[c] += dy_total;
    dw[c] += w[c] < 0.0f ? -xhat_dy_total : xhat_dy_total;
  }
}

// dx = (|w| + eps)/sqrt(var + eps) (dy - sum_dy/count - xhat sum_xhat_dy/count), y, dy and xhat
// recomputed from z and dz as in the sums pass.
// Mapping: the activation mapping. Shared: none. Bound: bandwidth, 3 * sizeof(T) bytes per
// element (z, dz read, dx written: 12 B float32, 6 B bfloat16) against ~10 flops. dx may alias
// dz: element i is read, then written, by one thread, and no other thread touches it.
// Preconditions: blockDim = (32, 8).
template <class T>
__global__ void iabn_backward_input_train_elementwise(const T* z, const T* dz, const float* w, const float* b,
                                                      const float* var, const float* sum_dy, const float* sum_xhat_dy,
                                                      float count, std::int64_t rows, std::int64_t channels,
                                                      float negative_slope, float eps, T* dx) {
  const std::int64_t c = thread_channel();
  if (c < channels) {
    const float gamma = fabsf(w[c]) + eps, inverse_gamma = 1.0f / gamma, shift = b[c];
    const float scale = gamma / sqrtf(var[c] + eps);
    const float mean_dy = sum_dy[c] / count, mean_xhat_dy = sum_xhat_dy[c] / count;
    for (std::int64_t row : thread_rows(rows)) {
      const std::int64_t i = row * channels + c;
      const float output = load_as_float(z + i);
      const float dy = leaky_relu_gradient_from_output(output, load_as_float(dz + i), negative_slope);
      const float xhat = (leaky_relu_input_from_output(output, negative_slope) - shift) * inverse_gamma;
      store_from_float(dx + i, scale * (dy - mean_dy - xhat * mean_xhat_dy));
    }
  }
}

// dx = (|w| + eps)/sqrt(running_var + eps) dy. Mapping, aliasing and preconditions as in the
// training pass. Bound: bandwidth, 3 * sizeof(T) bytes per element (12 B float32, 6 B bfloat16)
// against 2 flops.
template <class T>
__global__ void iabn_backward_input_eval_elementwise(const T* z, const T* dz, const float* w, const float* running_var,
                                                     std::int64_t rows, std::int64_t channels, float negative_slope,
                                                     float eps, T* dx) {
  const std::int64_t c = thread_channel();
  if (c < channels) {
    const float scale = (fabsf(w[c]) + eps) / sqrtf(running_var[c] + eps);
    for (std::int64_t row : thread_rows(rows)) {
      const std::int64_t i = row * channels + c;
      store_from_float(
          dx + i, scale * leaky_relu_gradient_from_output(load_as_float(z + i), load_as_float(dz + i), negative_slope));
    }
  }
}

}  // namespace

std::int64_t iabn_reduction_scratch_floats(std::int64_t rows, std::int64_t channels) {
  return 3 * std::int64_t(reduction_row_chunks(rows, channels)) * channels;  // the statistics' 3 planes
}

template <class T>
void iabn_batch_statistics(const T* x, std::int64_t rows, std::int64_t channels, float* scratch, float* mean,
                           float* var) {
  const unsigned chunks = reduction_row_chunks(rows, channels);
  launch("iabn_statistics_welford_partials", iabn_statistics_welford_partials<T>, dim3(channel_tiles(channels), chunks),
         activation_block(), 0, cudaStreamLegacy, x, rows, channels, scratch);
  launch("iabn_statistics_merge_partials", iabn_statistics_merge_partials, grid_for(channels, kChannelThreads),
         kChannelThreads, 0, cudaStreamLegacy, scratch, std::int64_t(chunks), channels, mean, var);
}

template <class T>
void iabn_normalize_inplace(T* x, std::int64_t rows, std::int64_t channels, const float* w, const float* b,
                            const float* mean, const float* var, float negative_slope, float eps) {
  if (rows == 0) return;
  launch("iabn_normalize_affine_activation_inplace", iabn_normalize_affine_activation_inplace<T>,
         dim3(channel_tiles(channels), elementwise_row_chunks(rows)), activation_block(), 0, cudaStreamLegacy, x, rows,
         channels, w, b, mean, var, negative_slope, eps);
}

void iabn_update_running_statistics(std::int64_t channels, float* running_mean, float* running_var, const float* mean,
                                    const float* var, std::int64_t count, double momentum) {
  launch("iabn_running_statistics_momentum", iabn_running_statistics_momentum, grid_for(channels, kChannelThreads),
         kChannelThreads, 0, cudaStreamLegacy, channels, running_mean, running_var, mean, var, float(momentum),
         float(double(count) / double(count - 1)));
}

template <class T>
void iabn_backward_reduce(const T* z, const T* dz, const float* w, const float* b, std::int64_t rows,
                          std::int64_t channels, float negative_slope, float eps, float* scratch, float* sum_dy,
                          float* sum_xhat_dy, float* dw, float* db) {
  const unsigned chunks = reduction_row_chunks(rows, channels);
  launch("iabn_backward_channel_sums_partials", iabn_backward_channel_sums_partials<T>,
         dim3(channel_tiles(channels), chunks), activation_block(), 0, cudaStreamLegacy, z, dz, w, b, rows, channels,
         negative_slope, eps, scratch);
  launch("iabn_backward_merge_partials_accumulate_parameters", iabn_backward_merge_partials_accumulate_parameters,
         grid_for(channels, kChannelThreads), kChannelThreads, 0, cudaStreamLegacy, scratch, std::int64_t(chunks),
         channels, w, sum_dy, sum_xhat_dy, dw, db);
}

template <class T>
void iabn_backward_input_train(const T* z, const T* dz, const float* w, const float* b, const float* var,
                               const float* sum_dy, const float* sum_xhat_dy, std::int64_t count, std::int64_t rows,
                               std::int64_t channels, float negative_slope, float eps, T* dx) {
  if (rows == 0) return;
  launch("iabn_backward_input_train_elementwise", iabn_backward_input_train_elementwise<T>,
         dim3(channel_tiles(channels), elementwise_row_chunks(rows)), activation_block(), 0, cudaStreamLegacy, z, dz, w,
         b, var, sum_dy, sum_xhat_dy, float(count), rows, channels, negative_slope, eps, dx);
}

template <class T>
void iabn_backward_input_eval(const T* z, const T* dz, const float* w, const float* running_var, std::int64_t rows,
                              std::int64_t channels, float negative_slope, float eps, T* dx) {
  if (rows == 0) return;
  launch("iabn_backward_input_eval_elementwise", iabn_backward_input_eval_elementwise<T>,
         dim3(channel_tiles(channels), elementwise_row_chunks(rows)), activation_block(), 0, cudaStreamLegacy, z, dz, w,
         running_var, rows, channels, negative_slope, eps, dx);
}

#define PANS_IABN_INSTANTIATE(T)                                                                                    \
  template void iabn_batch_statistics<T>(const T*, std::int64_t, std::int64_t, float*, float*, float*);             \
  template void iabn_normalize_inplace<T>(T*, std::int64_t, std::int64_t, const float*, const float*, const float*, \
                                          const float*, float, float);                                              \
  template void iabn_backward_reduce<T>(const T*, const T*, const float*, const float*, std::int64_t, std::int64_t, \
                                        float, float, float*, float*, float*, float*, float*);                      \
  template void iabn_backward_input_train<T>(const T*, const T*, const float*, const float*, const float*,          \
                                             const float*, const float*, std::int64_t, std::int64_t, std::int64_t,  \
                                             float, float, T*);                                                     \
  template void iabn_backward_input_eval<T>(const T*, const T*, const float*, const float*, std::int64_t,           \
                                            std::int64_t, float, float, T*);
PANS_IABN_INSTANTIATE(float)
PANS_IABN_INSTANTIATE(bf16)
#undef PANS_IABN_INSTANTIATE

}  // namespace pans::cuda
