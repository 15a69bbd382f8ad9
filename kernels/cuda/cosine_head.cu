// The classifiers of the head and their L2 normalisation on the GPU, float32 (see
// kernels/cosine_head.h for the maths and kernels/cpu/cosine_head.cpp for the oracle).
//
// PAnS runs these at 1/8 resolution: f {N,H,W,512} with N*H*W ~ 6.5k pixels in training (57x57
// crops, batch 2) and K = 13 classes. Every kernel here moves a few MB, so each is bandwidth- or
// latency-bound at a few microseconds; the design goal is reading f once per pass, fusing the
// per-pixel normalisation into the class products, and deterministic reductions over pixels.
//
// Kernels, in the order a forward and a backward use them:
//   l2_normalize_rows_warp_per_row            normalises the K prototypes (and any {rows, C} input)
//   classifier_logits_warp_per_pixel          cosine or linear logits, |f| fused into the dots
//   classifier_feature_grad_warp_per_pixel    df, the l2 backward fused with dlogits . w_hat
//   classifier_weight_grad_partials_pixel_chunks   per-chunk sums of dlogits^T f (and of dlogits)
//   classifier_weight_grad_finish_block_per_row    chunks summed in order, then the row l2 backward
//   l2_normalize_rows_backward_warp_per_row, cosine_max_similarity_thread_per_pixel
#include "kernels/cuda/cosine_head.h"
#include "kernels/cuda/grid_stride.h"
#include "kernels/cuda/launch.h"
#include "kernels/shared/l2_normalize_epsilon.h"

namespace pans::cuda {
namespace {

constexpr unsigned kFullMask = 0xffffffffu;
constexpr int kWarpSize = 32;
// The floor of F.normalize, as the oracle rounds it to float.
constexpr float kNormFloor = float(kL2NormalizeEpsilon);

// Warp-per-row/pixel kernels: 4 warps per block keep a block's staged prototypes (26 KiB for
// 13x512) plus its warps' scratch under the 48 KiB of dynamic shared memory that needs no opt-in,
// leaving room for several blocks per SM.
constexpr int kHeadWarps = 4;
constexpr int kPixelsPerWarp = 4;  // amortises each block's staging of the prototypes
constexpr int kSharedBudgetFloats = 48 * 1024 / 4;
// Classes whose dot products one lane carries in registers at once; more classes take more passes.
constexpr int kClassGroup = 16;
// Scratch rows of 32 lane partials padded to 33 floats, so lane j reading row j column i hits bank
// (j + i) mod 32: no conflicts.
constexpr int kScratchStride = kWarpSize + 1;
constexpr int kLogitsScratchFloats = (kClassGroup + 1) * kScratchStride;  // 16 dot rows + |f|^2 row

constexpr int kRowThreads = 256;
constexpr int kGradThreads = 128;
constexpr int kChunkPixels = 64;  // pixels per block of the weight-gradient partial sums
constexpr int kMaxTilePixels = 32;

enum class Head { Cosine, Linear };

// Butterfly sum: every lane ends with the same bits (each step adds the same pair either way).
__device__ __forceinline__ float warp_sum(float value) {
  for (int offset = kWarpSize / 2; offset > 0; offset /= 2) value += __shfl_xor_sync(kFullMask, value, offset);
  return value;
}

// Sums a and b over the block; every thread gets the same result. blockDim.x is a multiple of 32.
__device__ __forceinline__ void block_sum_pair(float& a, float& b, float* scratch /* 2 x 32 floats */) {
  const int warp = int(threadIdx.x) / kWarpSize, lane = int(threadIdx.x) % kWarpSize;
  a = warp_sum(a);
  b = warp_sum(b);
  if (lane == 0) {
    scratch[warp] = a;
    scratch[kWarpSize + warp] = b;
  }
  __syncthreads();
  a = 0.0f;
  b = 0.0f;
  for (int i = 0; i < int(blockDim.x) / kWarpSize; ++i) {
    a += scratch[i];
    b += scratch[kWarpSize + i];
  }
}

// Copies the {classes, channels} prototypes into shared memory when the launcher chose to stage
// them; returns where the kernel reads them from. Every thread of the block must call it.
__device__ __forceinline__ const float* stage_prototypes(const float* prototypes, int classes, int channels, bool stage,
                                                         float* shared) {
  if (stage)
    for (int i : block_stride_range(classes * channels)) shared[i] = prototypes[i];
  __syncthreads();
  return stage ? shared : prototypes;
}

// sum_k coefficients[k] * w[k, c]: one channel of the gradient reaching the features.
__device__ __forceinline__ float class_weighted_channel(const float* w, const float* coefficients, int classes,
                                                        int channels, int c) {
  float sum = 0.0f;
  for (int k = 0; k < classes; ++k) sum += coefficients[k] * w[std::int64_t(k) * channels + c];
  return sum;
}

// y = x / max(|x|, 1e-12) per row.
// Mapping: one warp per row, lanes strided over the row (coalesced), rows grid-strided by warp;
// |x|^2 by a butterfly of shuffles. Block 256 threads. No shared memory.
// Bound: bandwidth, 8 bytes per element (read, write); a second read of the row hits L1.
// Preconditions: blockDim.x a multiple of 32.
__global__ void l2_normalize_rows_warp_per_row(const float* x, std::int64_t rows, int cols, float* y) {
  const int lane = int(threadIdx.x) % kWarpSize;
  for (std::int64_t r : warp_grid_stride_range(rows)) {
    const float* row = x + r * cols;
    float squares = 0.0f;
    for (int c = lane; c < cols; c += kWarpSize) squares += row[c] * row[c];
    const float divisor = fmaxf(sqrtf(warp_sum(squares)), kNormFloor);
    for (int c = lane; c < cols; c += kWarpSize) y[r * cols + c] = row[c] / divisor;
  }
}

// dx = (dy - y (y.dy)) / |x|, or dy / 1e-12 below the floor, per row.
// Mapping: as l2_normalize_rows_warp_per_row; |x|^2 and x.dy reduced together by shuffles.
// Bound: bandwidth, 12 bytes per element. Preconditions: blockDim.x a multiple of 32.
__global__ void l2_normalize_rows_backward_warp_per_row(const float* x, const float* dy, std::int64_t rows, int cols,
                                                        float* dx) {
  const int lane = int(threadIdx.x) % kWarpSize;
  for (std::int64_t r : warp_grid_stride_range(rows)) {
    const float* row = x + r * cols;
    const float* row_grad = dy + r * cols;
    float squares = 0.0f, along = 0.0f;
    for (int c = lane; c < cols; c += kWarpSize) {
      squares += row[c] * row[c];
      along += row[c] * row_grad[c];
    }
    const float length = sqrtf(warp_sum(squares));
    const float projection = warp_sum(along) / length;
    for (int c = lane; c < cols; c += kWarpSize)
      dx[r * cols + c] =
          length <= kNormFloor ? row_grad[c] / kNormFloor : (row_grad[c] - row[c] / length * projection) / length;
  }
}

// Cosine: logits[p, k] = tau * <f_p, w_hat_k> / max(|f_p|, 1e-12) with prototypes = w_hat
// (normalised beforehand); linear: logits[p, k] = <f_p, w_k> + bias[k] with prototypes = w.
// Mapping: one warp per pixel (4 warps per block, pixels grid-strided by warp). Each lane walks
// channels c = lane, lane+32, ... (coalesced reads of f, each read once per 16 classes) and keeps
// 16 class partials in registers; the 32 lane partials of each class (and of |f|^2) go through
// the warp's scratch, and lane k sums class k's row in fixed order and writes logit k.
// Shared: [K*C staged prototypes when `stage`][4 warps x 17 x 33 scratch floats].
// Bound: bandwidth on f (4C bytes per pixel, 2KC FLOPs: 6.5 FLOP/B for K=13), with K shared-memory
// reads per channel close behind; 6.5k pixels x 2 KiB = 13 MB, a few microseconds on an H100.
// Preconditions: blockDim.x = 32 * kHeadWarps; stage only if K*C + scratch fits the allocation.
template <Head kHead>
__global__ void classifier_logits_warp_per_pixel(const float* f, const float* prototypes, const float* bias,
                                                 std::int64_t pixels, int channels, int classes, float tau, bool stage,
                                                 float* logits) {
  float* shared = dynamic_shared<float>();
  const float* w = stage_prototypes(prototypes, classes, channels, stage, shared);
  const int warp = int(threadIdx.x) / kWarpSize, lane = int(threadIdx.x) % kWarpSize;
  float* scratch = shared + (stage ? classes * channels : 0) + warp * kLogitsScratchFloats;
  float* squares_row = scratch + kClassGroup * kScratchStride;
  for (std::int64_t p : warp_grid_stride_range(pixels)) {
    const float* row = f + p * channels;
    for (int k0 = 0; k0 < classes; k0 += kClassGroup) {
      float dots[kClassGroup];
      for (int j = 0; j < kClassGroup; ++j) dots[j] = 0.0f;
      float squares = 0.0f;
      for (int c = lane; c < channels; c += kWarpSize) {
        const float v = row[c];
        if constexpr (kHead == Head::Cosine) squares += v * v;
        for (int j = 0; j < kClassGroup; ++j)
          if (k0 + j < classes) dots[j] += v * w[std::int64_t(k0 + j) * channels + c];
      }
      for (int j = 0; j < kClassGroup; ++j) scratch[j * kScratchStride + lane] = dots[j];
      if constexpr (kHead == Head::Cosine) squares_row[lane] = squares;
      __syncwarp();
      if (lane < kClassGroup && k0 + lane < classes) {
        float dot = 0.0f;
        for (int i = 0; i < kWarpSize; ++i) dot += scratch[lane * kScratchStride + i];
        float logit;
        if constexpr (kHead == Head::Cosine) {
          float norm_squared = 0.0f;
          for (int i = 0; i < kWarpSize; ++i) norm_squared += squares_row[i];
          logit = tau * dot / fmaxf(sqrtf(norm_squared), kNormFloor);
        } else {
          logit = dot + (bias != nullptr ? bias[k0 + lane] : 0.0f);
        }
        logits[p * classes + k0 + lane] = logit;
      }
      __syncwarp();  // the scratch is rewritten by the next class group or pixel
    }
  }
}

// Cosine: g = tau * sum_k dlogits[p, k] w_hat_k, df_p = (g - f_hat (f_hat.g)) / |f_p| (or g / 1e-12
// below the floor), and pixel_scale[p] = tau / max(|f_p|, 1e-12) for the weight gradient.
// Linear: df_p = sum_k dlogits[p, k] w_k. Both write df (=).
// Mapping: one warp per pixel (4 warps per block, grid-strided by warp); the pixel's K dlogits are
// staged in the warp's scratch; lanes stride over channels. The cosine path makes two passes over
// the row: |f|^2 and f.g reduced by shuffles, then df; g is recomputed rather than stored, since K
// shared-memory FMAs cost less than writing and rereading C floats.
// Shared: [K*C staged prototypes when `stage`][4 warps x K floats].
// Bound: bandwidth, 8 bytes per element (cosine rereads f from L1), plus K FMAs per element and pass.
// Preconditions: blockDim.x = 32 * kHeadWarps; stage only if K*C + scratch fits the allocation.
template <Head kHead>
__global__ void classifier_feature_grad_warp_per_pixel(const float* dlogits, const float* f, const float* prototypes,
                                                       std::int64_t pixels, int channels, int classes, float tau,
                                                       bool stage, float* df, float* pixel_scale) {
  float* shared = dynamic_shared<float>();
  const float* w = stage_prototypes(prototypes, classes, channels, stage, shared);
  const int warp = int(threadIdx.x) / kWarpSize, lane = int(threadIdx.x) % kWarpSize;
  float* scaled_grad = shared + (stage ? classes * channels : 0) + warp * classes;
  const float grad_scale = kHead == Head::Cosine ? tau : 1.0f;
  for (std::int64_t p : warp_grid_stride_range(pixels)) {
    for (int k = lane; k < classes; k += kWarpSize) scaled_grad[k] = grad_scale * dlogits[p * classes + k];
    __syncwarp();
    const float* row = f + p * channels;
    float* out = df + p * channels;
    if constexpr (kHead == Head::Cosine) {
      float squares = 0.0f, along = 0.0f;
      for (int c = lane; c < channels; c += kWarpSize) {
        const float v = row[c];
        squares += v * v;
        along += v * class_weighted_channel(w, scaled_grad, classes, channels, c);
      }
      const float length = sqrtf(warp_sum(squares));
      const float projection = warp_sum(along) / length;  // f_hat.g; unused below the floor
      if (lane == 0) pixel_scale[p] = tau / fmaxf(length, kNormFloor);
      for (int c = lane; c < channels; c += kWarpSize) {
        const float g = class_weighted_channel(w, scaled_grad, classes, channels, c);
        out[c] = length <= kNormFloor ? g / kNormFloor : (g - row[c] / length * projection) / length;
      }
    } else {
      for (int c = lane; c < channels; c += kWarpSize)
        out[c] = class_weighted_channel(w, scaled_grad, classes, channels, c);
    }
    __syncwarp();  // the next pixel rewrites scaled_grad
  }
}

// weight_partials[b, k, c] = sum over the pixels p of chunk b of dlogits[p, k] * s_p * f[p, c],
// with s_p = pixel_scale[p] (tau / max(|f_p|, 1e-12): the gradient reaching w_hat) or 1 (linear);
// bias_partials[b, k] = sum over chunk b of dlogits[p, k] when bias_partials is not null.
// Mapping: grid (chunks of kChunkPixels pixels, ceil(C / 128)); one thread per channel, 16 class
// sums in registers, pixels of the chunk walked in order in tiles whose K coefficients are staged
// in shared memory; threads of blockIdx.y == 0 with k < K sum the bias partials.
// Shared: tile_pixels x K floats. Each (chunk, channel) has one owner and a fixed order, so the
// partials, and the sums the finish kernel makes of them, are the same bits on every run.
// Bound: bandwidth, f read once (4 bytes per element), K*C*4 bytes written per chunk.
// Preconditions: pixels, channels, classes > 0; tile_pixels * classes floats of dynamic shared.
__global__ void classifier_weight_grad_partials_pixel_chunks(const float* dlogits, const float* f,
                                                             const float* pixel_scale, std::int64_t pixels,
                                                             int channels, int classes, int tile_pixels,
                                                             float* weight_partials, float* bias_partials) {
  float* coefficients = dynamic_shared<float>();
  const int c = int(blockIdx.y * blockDim.x + threadIdx.x);
  const bool owns_channel = c < channels;
  const std::int64_t begin = std::int64_t(blockIdx.x) * kChunkPixels;
  const std::int64_t end = begin + kChunkPixels < pixels ? begin + kChunkPixels : pixels;
  for (int k0 = 0; k0 < classes; k0 += kClassGroup) {
    float sums[kClassGroup];
    for (int j = 0; j < kClassGroup; ++j) sums[j] = 0.0f;
    for (std::int64_t tile = begin; tile < end; tile += tile_pixels) {
      const int count = int(end - tile < tile_pixels ? end - tile : tile_pixels);
      for (int i : block_stride_range(count * classes))
        coefficients[i] =
            dlogits[tile * classes + i] * (pixel_scale != nullptr ? pixel_scale[tile + i / classes] : 1.0f);
      __syncthreads();
      if (owns_channel)
        for (int q = 0; q < count; ++q) {
          const float v = f[(tile + q) * channels + c];
          for (int j = 0; j < kClassGroup; ++j)
            if (k0 + j < classes) sums[j] += coefficients[q * classes + k0 + j] * v;
        }
      __syncthreads();  // the next tile overwrites the coefficients
    }
    if (owns_channel)
      for (int j = 0; j < kClassGroup; ++j)
        if (k0 + j < classes) weight_partials[(std::int64_t(blockIdx.x) * classes + k0 + j) * channels + c] = sums[j];
  }
  if (bias_partials != nullptr && blockIdx.y == 0)
    for (int k : block_stride_range(classes)) {
      float sum = 0.0f;
      for (std::int64_t p = begin; p < end; ++p) sum += dlogits[p * classes + k];
      bias_partials[std::int64_t(blockIdx.x) * classes + k] = sum;
    }
}

// G[k, c] = sum over chunks b = 0, 1, ... in order of weight_partials[b, k, c]; then
// linear: dw[k, c] += G[k, c]; cosine: dw_k += (G_k - w_hat_k (w_hat_k.G_k)) / |w_k| (G_k / 1e-12
// below the floor), the row l2 backward. dbias[k] += sum over b of bias_partials[b, k] if given.
// Mapping: one block of 128 threads per class row k, threads strided over channels; the cosine
// row's |w|^2 and w.G are block-reduced in fixed order, and G waits in weight_partials[0, k, :]
// (each element has one owner thread) for the second pass.
// Shared: 64 floats of block-reduction scratch.
// Bound: bandwidth on the chunks x K x C partials (2.7 MB for 6.5k pixels, 13 x 512).
// Preconditions: blockDim.x a multiple of 32; grid = classes.
template <Head kHead>
__global__ void classifier_weight_grad_finish_block_per_row(float* weight_partials, const float* bias_partials,
                                                            int chunks, int channels, int classes, const float* w,
                                                            float* dw, float* dbias) {
  __shared__ float scratch[2 * kWarpSize];
  const int k = int(blockIdx.x);
  const std::int64_t row = std::int64_t(k) * channels;
  float squares = 0.0f, along = 0.0f;
  for (int c : block_stride_range(channels)) {
    float g = 0.0f;
    for (int b = 0; b < chunks; ++b) g += weight_partials[(std::int64_t(b) * classes + k) * channels + c];
    if constexpr (kHead == Head::Linear) {
      dw[row + c] += g;
    } else {
      weight_partials[row + c] = g;
      squares += w[row + c] * w[row + c];
      along += w[row + c] * g;
    }
  }
  if constexpr (kHead == Head::Cosine) {
    block_sum_pair(squares, along, scratch);
    const float length = sqrtf(squares);
    const float projection = along / length;  // w_hat.G; unused below the floor
    for (int c : block_stride_range(channels)) {
      const float g = weight_partials[row + c];
      dw[row + c] += length <= kNormFloor ? g / kNormFloor : (g - w[row + c] / length * projection) / length;
    }
  }
  if (dbias != nullptr && threadIdx.x == 0) {
    float sum = 0.0f;
    for (int b = 0; b < chunks; ++b) sum += bias_partials[std::int64_t(b) * classes + k];
    dbias[k] += sum;
  }
}

// similarity[p] = max_k logits[p, k] / tau.
// Mapping: one thread per pixel, grid-stride; K is small (13), so a thread reads its whole row.
// Bound: bandwidth, 4(K + 1) bytes per pixel. No shared memory.
__global__ void cosine_max_similarity_thread_per_pixel(const float* logits, std::int64_t pixels, int classes, float tau,
                                                       float* similarity) {
  for (std::int64_t p : grid_stride_range(pixels)) {
    const float* row = logits + p * classes;
    float best = row[0];
    for (int k = 1; k < classes; ++k) best = fmaxf(best, row[k]);
    similarity[p] = best / tau;
  }
}

// ---- launchers --------------------------------------------------------------------------------

constexpr unsigned kHeadThreads = kHeadWarps * kWarpSize;

unsigned warp_per_pixel_blocks(std::int64_t pixels) { return grid_for(pixels, kHeadWarps * kPixelsPerWarp); }

// Staging the prototypes pays when they fit beside the scratch in the default 48 KiB; larger
// heads (K*C above ~10k floats) read them through the L1/L2 caches instead.
bool stages_prototypes(std::int64_t classes, std::int64_t channels, int scratch_floats_per_warp) {
  return classes * channels + std::int64_t(kHeadWarps) * scratch_floats_per_warp <= kSharedBudgetFloats;
}

std::size_t warp_per_pixel_shared_bytes(bool stage, std::int64_t classes, std::int64_t channels,
                                        int scratch_floats_per_warp) {
  return std::size_t((stage ? classes * channels : 0) + std::int64_t(kHeadWarps) * scratch_floats_per_warp) *
         sizeof(float);
}

template <Head kHead>
void launch_logits(std::int64_t pixels, std::int64_t channels, std::int64_t classes, const float* f,
                   const float* prototypes, const float* bias, float tau, float* logits) {
  if (pixels == 0 || classes == 0) return;
  const bool stage = stages_prototypes(classes, channels, kLogitsScratchFloats);
  launch("classifier_logits_warp_per_pixel", classifier_logits_warp_per_pixel<kHead>, warp_per_pixel_blocks(pixels),
         kHeadThreads, warp_per_pixel_shared_bytes(stage, classes, channels, kLogitsScratchFloats), cudaStreamLegacy, f,
         prototypes, bias, pixels, int(channels), int(classes), tau, stage, logits);
}

template <Head kHead>
void launch_feature_grad(std::int64_t pixels, std::int64_t channels, std::int64_t classes, const float* dlogits,
                         const float* f, const float* prototypes, float tau, float* df, float* pixel_scale) {
  const bool stage = stages_prototypes(classes, channels, int(classes));
  launch("classifier_feature_grad_warp_per_pixel", classifier_feature_grad_warp_per_pixel<kHead>,
         warp_per_pixel_blocks(pixels), kHeadThreads,
         warp_per_pixel_shared_bytes(stage, classes, channels, int(classes)), cudaStreamLegacy, dlogits, f, prototypes,
         pixels, int(channels), int(classes), tau, stage, df, pixel_scale);
}

std::int64_t weight_grad_chunks(std::int64_t pixels) { return (pixels + kChunkPixels - 1) / kChunkPixels; }

// dw (+=) and dbias (+=, if not null) from dlogits, f and the per-pixel scale (null: 1).
// weight_partials holds weight_grad_chunks(pixels) * K * C floats, bias_partials (if dbias) chunks * K.
template <Head kHead>
void launch_weight_grad(std::int64_t pixels, std::int64_t channels, std::int64_t classes, const float* dlogits,
                        const float* f, const float* pixel_scale, const float* w, float* dw, float* dbias,
                        float* weight_partials, float* bias_partials) {
  if (classes == 0 || channels == 0) return;  // nothing to accumulate (pixels > 0 here)
  const std::int64_t chunks = weight_grad_chunks(pixels);
  // A tile of coefficients takes at most 32 KiB of shared memory (for K up to 8192).
  const std::int64_t fitting = 8192 / classes;
  const int tile_pixels = int(fitting < 1 ? 1 : (fitting > kMaxTilePixels ? kMaxTilePixels : fitting));
  const dim3 grid(unsigned(chunks), unsigned((channels + kGradThreads - 1) / kGradThreads));
  launch("classifier_weight_grad_partials_pixel_chunks", classifier_weight_grad_partials_pixel_chunks, grid,
         kGradThreads, std::size_t(tile_pixels) * std::size_t(classes) * sizeof(float), cudaStreamLegacy, dlogits, f,
         pixel_scale, pixels, int(channels), int(classes), tile_pixels, weight_partials,
         dbias != nullptr ? bias_partials : nullptr);
  launch("classifier_weight_grad_finish_block_per_row", classifier_weight_grad_finish_block_per_row<kHead>,
         unsigned(classes), kGradThreads, 0, cudaStreamLegacy, weight_partials,
         static_cast<const float*>(bias_partials), int(chunks), int(channels), int(classes), w, dw, dbias);
}

}  // namespace

std::int64_t cosine_classifier_forward_scratch_floats(std::int64_t channels, std::int64_t classes) {
  return classes * channels;
}

std::int64_t cosine_classifier_backward_scratch_floats(std::int64_t pixels, std::int64_t channels,
                                                       std::int64_t classes) {
  return classes * channels + pixels + weight_grad_chunks(pixels) * classes * channels;
}

std::int64_t linear_classifier_backward_scratch_floats(std::int64_t pixels, std::int64_t channels,
                                                       std::int64_t classes) {
  return weight_grad_chunks(pixels) * classes * (channels + 1);
}

void l2_normalize_forward(std::int64_t rows, std::int64_t cols, const float* x, float* y) {
  if (rows == 0) return;
  launch("l2_normalize_rows_warp_per_row", l2_normalize_rows_warp_per_row, grid_for(rows, kRowThreads / kWarpSize),
         kRowThreads, 0, cudaStreamLegacy, x, rows, int(cols), y);
}

void l2_normalize_backward(std::int64_t rows, std::int64_t cols, const float* x, const float* dy, float* dx) {
  if (rows == 0) return;
  launch("l2_normalize_rows_backward_warp_per_row", l2_normalize_rows_backward_warp_per_row,
         grid_for(rows, kRowThreads / kWarpSize), kRowThreads, 0, cudaStreamLegacy, x, dy, rows, int(cols), dx);
}

void cosine_classifier_forward(std::int64_t pixels, std::int64_t channels, std::int64_t classes, const float* f,
                               const float* w, double tau, float* logits, float* scratch) {
  if (pixels == 0 || classes == 0) return;
  float* unit_w = scratch;
  l2_normalize_forward(classes, channels, w, unit_w);
  launch_logits<Head::Cosine>(pixels, channels, classes, f, unit_w, nullptr, float(tau), logits);
}

void cosine_classifier_backward(std::int64_t pixels, std::int64_t channels, std::int64_t classes, const float* dlogits,
                                const float* f, const float* w, double tau, float* df, float* dw, float* scratch) {
  if (pixels == 0) return;
  float* unit_w = scratch;
  float* pixel_scale = unit_w + classes * channels;
  float* weight_partials = pixel_scale + pixels;
  l2_normalize_forward(classes, channels, w, unit_w);
  launch_feature_grad<Head::Cosine>(pixels, channels, classes, dlogits, f, unit_w, float(tau), df, pixel_scale);
  launch_weight_grad<Head::Cosine>(pixels, channels, classes, dlogits, f, pixel_scale, w, dw, nullptr, weight_partials,
                                   nullptr);
}

void linear_classifier_forward(std::int64_t pixels, std::int64_t channels, std::int64_t classes, const float* f,
                               const float* w, const float* bias, float* logits) {
  launch_logits<Head::Linear>(pixels, channels, classes, f, w, bias, 1.0f, logits);
}

void linear_classifier_backward(std::int64_t pixels, std::int64_t channels, std::int64_t classes, const float* dlogits,
                                const float* f, const float* w, float* df, float* dw, float* dbias, float* scratch) {
  if (pixels == 0) return;
  float* weight_partials = scratch;
  float* bias_partials = weight_partials + weight_grad_chunks(pixels) * classes * channels;
  launch_feature_grad<Head::Linear>(pixels, channels, classes, dlogits, f, w, 1.0f, df, nullptr);
  launch_weight_grad<Head::Linear>(pixels, channels, classes, dlogits, f, nullptr, w, dw, dbias, weight_partials,
                                   bias_partials);
}

void cosine_max_similarity(std::int64_t pixels, std::int64_t classes, const float* logits, double tau,
                           float* similarity) {
  if (pixels == 0) return;
  constexpr unsigned kThreads = 256;
  launch("cosine_max_similarity_thread_per_pixel", cosine_max_similarity_thread_per_pixel, grid_for(pixels, kThreads),
         kThreads, 0, cudaStreamLegacy, logits, pixels, int(classes), float(tau), similarity);
}

}  // namespace pans::cuda
