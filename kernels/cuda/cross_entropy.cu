// Softmax and the fused softmax cross-entropy on the GPU, float32 (see kernels/cross_entropy.h for
// the maths and kernels/cpu/cross_entropy.cpp for the oracle, whose float operations each kernel
// repeats in the same order per pixel).
//
// The loss runs at label resolution: 2 x 450 x 450 = 405k pixels of K = 13 logits per training
// step (21 MB in, 21 MB out), so every kernel here is bandwidth-bound; one thread owns one pixel's
// K logits, since K is far below a warp.
//
// softmax_cross_entropy, three kernels and one host synchronisation:
//   1. cross_entropy_count_labels: counts the pixels not ignored (integer atomics: exact, so
//      deterministic) and finds the first bad label (atomicMin of its index). It reads only the
//      labels (1 byte per pixel), so knowing the count before any gradient is written costs ~1%
//      of the traffic; the alternative, writing unnormalised gradients and rescaling them after a
//      count, would reread and rewrite all of dlogits.
//   2. softmax_cross_entropy_thread_per_pixel: reads the count from device memory (no host round
//      trip), writes dlogits = loss_scale (p - onehot) / count, and a per-block partial of the
//      loss terms in double. If step 1 found a bad label it writes nothing, so the op fails
//      leaving dlogits untouched, as the CPU path does.
//   3. cross_entropy_loss_finish_single_block: sums the partials in a fixed order and scales.
// The host then copies the 24-byte result (count, bad pixel, loss) back: the one synchronisation
// the returned double needs anyway.
#include "kernels/cuda/cross_entropy.h"
#include "kernels/cuda/grid_stride.h"
#include "kernels/cuda/launch.h"

namespace pans::cuda {
namespace {

constexpr unsigned kFullMask = 0xffffffffu;
constexpr int kWarpSize = 32;
constexpr unsigned kThreads = 256;
constexpr unsigned long long kNoBadPixel = ~0ull;

// The device-side result of softmax_cross_entropy (kernels 1-3 fill it in turn).
struct LossCounters {
  unsigned long long counted;          // pixels whose label is not ignore_index
  unsigned long long first_bad_pixel;  // kNoBadPixel when every label is a class or ignored
  double loss;
};
static_assert(sizeof(LossCounters) == 3 * sizeof(double), "LossCounters lives in three doubles of workspace");

// Butterfly sum: every lane ends with the same bits.
template <class T>
__device__ __forceinline__ T warp_sum(T value) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) value += __shfl_xor_sync(kFullMask, value, offset);
  return value;
}

// Sum over the block in a fixed order (lanes by butterfly, then warps 0, 1, ...); every thread
// gets it. Called once per kernel, so the scratch needs no trailing barrier.
template <class T>
__device__ __forceinline__ T block_sum(T value, T* warp_sums /* 32 */) {
  value = warp_sum(value);
  if (threadIdx.x % kWarpSize == 0) warp_sums[threadIdx.x / kWarpSize] = value;
  __syncthreads();
  T total = 0;
  for (unsigned w = 0; w < blockDim.x / kWarpSize; ++w) total += warp_sums[w];
  return total;
}

// probs[r, :] = softmax(logits[r, :]).
// Mapping: one thread per row, grid-stride; three passes over the row (max, sum of exponentials,
// write), the second and third hitting L1. Block 256, no shared memory.
// Bound: bandwidth, 8 bytes per element. A row far longer than pans' 13 classes would want a warp
// per row instead.
__global__ void softmax_thread_per_row(const float* logits, std::int64_t rows, int classes, float* probs) {
  for (std::int64_t r : grid_stride_range(rows)) {
    const float* row = logits + r * classes;
    float max_logit = row[0];
    for (int k = 1; k < classes; ++k) max_logit = fmaxf(max_logit, row[k]);
    float sum = 0.0f;
    for (int k = 0; k < classes; ++k) sum += expf(row[k] - max_logit);
    for (int k = 0; k < classes; ++k) probs[r * classes + k] = expf(row[k] - max_logit) / sum;
  }
}

// dlogits[r, k] = p_k (dp_k - sum_i p_i dp_i).
// Mapping: one thread per row, grid-stride, two passes. Block 256, no shared memory.
// Bound: bandwidth, 12 bytes per element.
__global__ void softmax_backward_thread_per_row(const float* probs, const float* dprobs, std::int64_t rows, int classes,
                                                float* dlogits) {
  for (std::int64_t r : grid_stride_range(rows)) {
    const float* p = probs + r * classes;
    const float* dp = dprobs + r * classes;
    float weighted = 0.0f;
    for (int k = 0; k < classes; ++k) weighted += p[k] * dp[k];
    for (int k = 0; k < classes; ++k) dlogits[r * classes + k] = p[k] * (dp[k] - weighted);
  }
}

// counters->counted += pixels whose label != ignore_index; counters->first_bad_pixel = min over
// pixels whose label is neither a class nor ignore_index.
// Mapping: one thread per pixel, grid-stride; per-block count by shuffles and one 64-bit integer
// atomicAdd per block (integer sums are exact in any order). Shared: 32 counts.
// Bound: bandwidth, 1 byte per pixel. Preconditions: counted = 0, first_bad_pixel = kNoBadPixel;
// blockDim.x a multiple of 32.
__global__ void cross_entropy_count_labels(const std::uint8_t* labels, std::int64_t pixels, int classes,
                                           int ignore_index, LossCounters* counters) {
  __shared__ unsigned long long warp_counts[kWarpSize];
  unsigned long long counted = 0;
  for (std::int64_t p : grid_stride_range(pixels)) {
    const int label = labels[p];
    if (label == ignore_index) continue;
    if (label < classes)
      ++counted;
    else
      atomicMin(&counters->first_bad_pixel, static_cast<unsigned long long>(p));
  }
  counted = block_sum(counted, warp_counts);
  if (threadIdx.x == 0) atomicAdd(&counters->counted, counted);
}

// Per pixel with a label: dlogits = (exp(l - max) / sum - onehot) * float(loss_scale / count) and
// the loss term log(sum) - (l_label - max) in float, added in double; ignored pixels get zeros.
// loss_partials[blockIdx.x] = the block's sum of loss terms.
// Mapping: one thread per pixel, grid-stride (so each partial's order is fixed by the grid);
// block sum by shuffles and the warps in order. Shared: 32 doubles.
// Bound: bandwidth, 4K bytes read and 4K written per pixel; 2K expf per pixel.
// Preconditions: cross_entropy_count_labels has run on `counters`; blockDim.x a multiple of 32.
__global__ void softmax_cross_entropy_thread_per_pixel(const float* logits, const std::uint8_t* labels,
                                                       std::int64_t pixels, int classes, int ignore_index,
                                                       double loss_scale, const LossCounters* counters, float* dlogits,
                                                       double* loss_partials) {
  __shared__ double warp_sums[kWarpSize];
  const bool labels_valid = counters->first_bad_pixel == kNoBadPixel;
  const unsigned long long counted = counters->counted;
  // The oracle's rounding: the scale in double, then to float.
  const float gradient_scale = counted == 0 ? 0.0f : float(loss_scale / double(counted));
  double loss_sum = 0.0;
  // A bad label anywhere: no pixel is visited, nothing written.
  for (std::int64_t p : grid_stride_range(labels_valid ? pixels : std::int64_t(0))) {
    const float* row = logits + p * classes;
    float* grad = dlogits + p * classes;
    const int label = labels[p];
    if (label == ignore_index) {
      for (int k = 0; k < classes; ++k) grad[k] = 0.0f;
      continue;
    }
    float max_logit = row[0];
    for (int k = 1; k < classes; ++k) max_logit = fmaxf(max_logit, row[k]);
    float sum = 0.0f;
    for (int k = 0; k < classes; ++k) sum += expf(row[k] - max_logit);
    // -log p_label = log sum exp(l - max) - (l_label - max), finite for any finite logits.
    loss_sum += double(logf(sum) - (row[label] - max_logit));
    for (int k = 0; k < classes; ++k)
      grad[k] = (expf(row[k] - max_logit) / sum - (k == label ? 1.0f : 0.0f)) * gradient_scale;
  }
  loss_sum = block_sum(loss_sum, warp_sums);
  if (threadIdx.x == 0) loss_partials[blockIdx.x] = loss_sum;
}

// counters->loss = loss_scale * (sum of the partials, in a fixed order) / count, or 0 with no count.
// Mapping: one block; threads stride over the partials, then a block sum. Shared: 32 doubles.
// Bound: latency (a few thousand doubles at most).
__global__ void cross_entropy_loss_finish_single_block(const double* loss_partials, int blocks, double loss_scale,
                                                       LossCounters* counters) {
  __shared__ double warp_sums[kWarpSize];
  double sum = 0.0;
  for (int b : block_stride_range(blocks)) sum += loss_partials[b];
  sum = block_sum(sum, warp_sums);
  if (threadIdx.x == 0) counters->loss = counters->counted == 0 ? 0.0 : loss_scale * sum / double(counters->counted);
}

}  // namespace

void softmax_forward(std::int64_t rows, std::int64_t classes, const float* logits, float* probs) {
  if (rows == 0) return;
  launch("softmax_thread_per_row", softmax_thread_per_row, grid_for(rows, kThreads), kThreads, 0, cudaStreamLegacy,
         logits, rows, int(classes), probs);
}

void softmax_backward(std::int64_t rows, std::int64_t classes, const float* probs, const float* dprobs,
                      float* dlogits) {
  if (rows == 0) return;
  launch("softmax_backward_thread_per_row", softmax_backward_thread_per_row, grid_for(rows, kThreads), kThreads, 0,
         cudaStreamLegacy, probs, dprobs, rows, int(classes), dlogits);
}

std::int64_t softmax_cross_entropy_scratch_doubles(std::int64_t pixels) {
  return 3 + std::int64_t(grid_for(pixels, kThreads));
}

CrossEntropyResult softmax_cross_entropy(std::int64_t pixels, std::int64_t classes, const float* logits,
                                         const std::uint8_t* labels, int ignore_index, double loss_scale,
                                         float* dlogits, double* scratch) {
  CrossEntropyResult result;
  if (pixels == 0) return result;
  const unsigned blocks = grid_for(pixels, kThreads);
  auto* counters = reinterpret_cast<LossCounters*>(scratch);
  double* loss_partials = scratch + 3;
  PANS_CUDA_CHECK(cudaMemsetAsync(&counters->counted, 0, sizeof(counters->counted), cudaStreamLegacy));
  PANS_CUDA_CHECK(
      cudaMemsetAsync(&counters->first_bad_pixel, 0xFF, sizeof(counters->first_bad_pixel), cudaStreamLegacy));
  launch("cross_entropy_count_labels", cross_entropy_count_labels, blocks, kThreads, 0, cudaStreamLegacy, labels,
         pixels, int(classes), ignore_index, counters);
  launch("softmax_cross_entropy_thread_per_pixel", softmax_cross_entropy_thread_per_pixel, blocks, kThreads, 0,
         cudaStreamLegacy, logits, labels, pixels, int(classes), ignore_index, loss_scale,
         static_cast<const LossCounters*>(counters), dlogits, loss_partials);
  launch("cross_entropy_loss_finish_single_block", cross_entropy_loss_finish_single_block, 1, kThreads, 0,
         cudaStreamLegacy, static_cast<const double*>(loss_partials), int(blocks), loss_scale, counters);
  LossCounters host;
  PANS_CUDA_CHECK(cudaMemcpy(&host, counters, sizeof(host), cudaMemcpyDeviceToHost));
  if (host.first_bad_pixel != kNoBadPixel) {
    std::uint8_t label = 0;
    PANS_CUDA_CHECK(cudaMemcpy(&label, labels + host.first_bad_pixel, 1, cudaMemcpyDeviceToHost));
    result.bad_pixel = std::int64_t(host.first_bad_pixel);
    result.bad_label = label;
    return result;
  }
  result.loss = host.loss;
  return result;
}

}  // namespace pans::cuda
