// Convolution on the GPU, forward, input gradient and weight gradient, NHWC activations and
// {Cout,KH,KW,Cin} weights, storage float32 or bfloat16 (see kernels/cuda/conv2d.h). Algorithms
// (the values of Conv2dAlgo that run here):
//   ImplicitGemmTensorCore  kernels/cuda/conv2d_implicit_gemm.cuh: conv2d_implicit_gemm_mma, one
//                           kernel template for the three passes (their gathers differ);
//   Simt                    kernels/cuda/conv2d_simt.cuh: conv2d_forward_thread_per_output,
//                           conv2d_backward_input_thread_per_input,
//                           conv2d_weight_grad_partials_thread_per_weight.
// The weight gradient of both is a deterministic split reduction: each split of the output pixels
// writes partial sums (=) to scratch, then conv2d_weight_grad_reduce_splits adds the splits in
// index order to dw and dbias (+=). No float atomics anywhere.
#include <algorithm>
#include <cstdint>
#include <limits>

#include "kernels/cuda/conv2d.h"
#include "kernels/cuda/conv2d_implicit_gemm.cuh"
#include "kernels/cuda/conv2d_simt.cuh"
#include "kernels/cuda/grid_stride.h"
#include "kernels/cuda/launch.h"
#include "tensor/dtype.h"
#include "tensor/error.h"

namespace pans::cuda {
namespace {

using implicit_gemm::Epilogue;
using implicit_gemm::GemmExtent;

constexpr unsigned kSimtThreads = 256;
// Blocks the automatic tilings aim for: two waves on an H100's 132 SMs. A constant rather than a
// device query, so that a layer's split count, hence its result bits, is the same on every GPU.
constexpr std::int64_t kTargetBlocks = 264;
constexpr int kMinTilesPerSplit = 8;       // K steps of one wgrad split: amortises its epilogue
constexpr int kSimtPixelsPerSplit = 4096;  // output pixels one Simt wgrad thread walks
constexpr std::int64_t kMaxGridYZ = 65535;

std::int64_t ceil_div(std::int64_t a, std::int64_t b) { return (a + b - 1) / b; }

// The kernels index pixels and GEMM extents with int; the headroom covers a last partial tile.
bool fits_int(std::int64_t value) { return value >= 0 && value <= std::numeric_limits<int>::max() - 256; }

std::int64_t output_pixels(const Conv2dGeometry& g) { return g.batch * g.out_height * g.out_width; }
std::int64_t weight_depth(const Conv2dGeometry& g) { return g.kernel_height * g.kernel_width * g.in_channels; }

// The geometry the kernels take: every extent as an int.
BasicConv2dGeometry<int> int_geometry(const Conv2dGeometry& g) {
  for (std::int64_t extent : {g.batch * g.in_height * g.in_width, output_pixels(g), weight_depth(g),
                              g.kernel_height * g.kernel_width * g.out_channels, g.out_channels})
    PANS_CHECK(fits_int(extent), "conv2d: an extent of ", extent, " does not fit the CUDA kernels' int indices");
  return {int(g.batch),        int(g.in_height),
          int(g.in_width),     int(g.in_channels),
          int(g.out_channels), int(g.kernel_height),
          int(g.kernel_width), int(g.out_height),
          int(g.out_width),    g.stride,
          g.padding,           g.dilation};
}

// The implicit-GEMM gathers keep 32-bit element offsets (kernels/cuda/conv2d_implicit_gemm.cuh):
// each operand's elements must fit an int, plus the overshoot of the offsets computed for zero
// chunks (padding rows and columns, up to a stage past the last pixel; never read).
void check_implicit_gemm_offsets(const Conv2dGeometry& g) {
  const std::int64_t width = std::max(g.in_width, g.out_width), channels = std::max(g.in_channels, g.out_channels);
  const std::int64_t overshoot =
      ((g.kernel_height + g.kernel_width) * g.dilation + 2 * g.padding + 2 * implicit_gemm::kBlockK * g.stride + 4) *
      (width + 1) * channels;
  for (std::int64_t elements :
       {g.batch * g.in_height * g.in_width * g.in_channels, g.batch * g.out_height * g.out_width * g.out_channels,
        g.out_channels * weight_depth(g)})
    PANS_CHECK(elements <= std::numeric_limits<int>::max() - overshoot, "conv2d: a tensor of ", elements,
               " elements exceeds the implicit GEMM's 32-bit offsets");
}

[[noreturn]] void fail_not_native(Conv2dAlgo algo) {
  PANS_FAIL("conv2d: ", conv2d_algo_name(algo), " is not a native algorithm; its launchers are its own");
}

// ---- the split reduction of the weight gradient -----------------------------------------------

// dw[e] += sum over z of partials[z][e] (e < weights); dbias[c] += sum over z of partials[z][weights + c].
// Mapping: one thread per element, grid-stride; splits summed in index order (deterministic).
// Bound: bandwidth, splits x 4 bytes read per element.
__global__ void conv2d_weight_grad_reduce_splits(std::int64_t weights, std::int64_t channels, int splits,
                                                 const float* partials, float* dw, float* dbias) {
  const std::int64_t stride = weights + channels, count = weights + (dbias != nullptr ? channels : 0);
  for (std::int64_t e : grid_stride_range(count)) {
    float sum = 0.0f;
    for (int z = 0; z < splits; ++z) sum += partials[z * stride + e];
    if (e < weights)
      dw[e] += sum;
    else
      dbias[e - weights] += sum;
  }
}

void reduce_splits(const Conv2dGeometry& g, int splits, const float* partials, float* dw, float* dbias) {
  const std::int64_t weights = g.out_channels * weight_depth(g);
  const std::int64_t count = weights + (dbias != nullptr ? g.out_channels : 0);
  if (count == 0) return;
  launch("conv2d_weight_grad_reduce_splits", conv2d_weight_grad_reduce_splits, grid_for(count, kSimtThreads),
         kSimtThreads, 0, cudaStreamLegacy, weights, std::int64_t(g.out_channels), splits, partials, dw, dbias);
}

// ---- ImplicitGemmTensorCore -------------------------------------------------------------------

int block_m_for(Conv2dTiling tiling, std::int64_t m, std::int64_t n, bool weight_grad) {
  if (tiling.block_m != 0) {
    PANS_CHECK(tiling.block_m == 64 || tiling.block_m == 128, "conv2d: block_m is 64 or 128, not ", tiling.block_m);
    return tiling.block_m;
  }
  // wgrad's M is Cout, and splitting K supplies the blocks; forward and dgrad have huge M and take
  // the 128-row tile only once it still gives two waves.
  if (weight_grad) return m > 64 ? 128 : 64;
  return ceil_div(m, 128) * ceil_div(n, implicit_gemm::kBlockN) >= kTargetBlocks ? 128 : 64;
}

struct WeightGradSplits {
  int splits, k_tiles_per_split;
};

WeightGradSplits implicit_gemm_splits(const Conv2dGeometry& g, Conv2dTiling tiling) {
  const std::int64_t k_tiles = ceil_div(output_pixels(g), implicit_gemm::kBlockK);
  if (k_tiles == 0) return {1, 0};
  const std::int64_t m = g.out_channels, n = weight_depth(g);
  const std::int64_t tiles = ceil_div(m, block_m_for(tiling, m, n, true)) * ceil_div(n, implicit_gemm::kBlockN);
  std::int64_t splits = tiling.splits != 0 ? tiling.splits
                                           : std::min(ceil_div(kTargetBlocks, tiles),
                                                      std::max<std::int64_t>(1, k_tiles / kMinTilesPerSplit));
  splits = std::clamp<std::int64_t>(splits, 1, std::min(k_tiles, kMaxGridYZ));
  const std::int64_t per_split = ceil_div(k_tiles, splits);
  return {int(ceil_div(k_tiles, per_split)), int(per_split)};  // no empty split
}

// Whether the epilogue may store two adjacent columns at once: every (row, even col) element of the
// output, in every split, is aligned to two elements.
template <class OutT>
bool pairs_aligned(const Epilogue<OutT>& epilogue, const GemmExtent& e) {
  return reinterpret_cast<std::uintptr_t>(epilogue.out) % (2 * sizeof(OutT)) == 0 && e.n % 2 == 0 &&
         epilogue.split_stride % 2 == 0;
}

template <class T, class OutT, int BM, class GatherA, class GatherB>
void launch_implicit_gemm(const char* name, const GemmExtent& e, int splits, const GatherA& a, const GatherB& b,
                          Epilogue<OutT> epilogue) {
  epilogue.paired = pairs_aligned(epilogue, e);
  auto* kernel = implicit_gemm::conv2d_implicit_gemm_mma<T, OutT, BM, GatherA, GatherB>;
  constexpr std::size_t bytes = implicit_gemm::shared_bytes_for<T, BM>(GatherA::kMajor, GatherB::kMajor);
  set_max_dynamic_shared_bytes(kernel, bytes);
  const std::int64_t n_tiles = ceil_div(e.n, implicit_gemm::kBlockN);
  PANS_CHECK(n_tiles <= kMaxGridYZ, "conv2d: ", e.n, " GEMM columns exceed the grid");
  launch(name, kernel, dim3(unsigned(ceil_div(e.m, BM)), unsigned(n_tiles), unsigned(splits)), implicit_gemm::kThreads,
         bytes, cudaStreamLegacy, e, a, b, epilogue);
}

template <class T, class OutT, class GatherA, class GatherB>
void launch_implicit_gemm(const char* name, int block_m, const GemmExtent& e, int splits, const GatherA& a,
                          const GatherB& b, const Epilogue<OutT>& epilogue) {
  if (block_m == 128)
    launch_implicit_gemm<T, OutT, 128>(name, e, splits, a, b, epilogue);
  else
    launch_implicit_gemm<T, OutT, 64>(name, e, splits, a, b, epilogue);
}

GemmExtent whole_k(std::int64_t m, std::int64_t n, std::int64_t k) {
  return {int(m), int(n), int(k), int(ceil_div(k, implicit_gemm::kBlockK))};
}

template <class T>
void forward_implicit_gemm(const Conv2dGeometry& g, const T* x, const T* w, const float* bias, T* y,
                           Conv2dTiling tiling) {
  const BasicConv2dGeometry<int> s = int_geometry(g);
  check_implicit_gemm_offsets(g);
  const GemmExtent e = whole_k(output_pixels(g), g.out_channels, weight_depth(g));
  if (e.m == 0 || e.n == 0) return;
  launch_implicit_gemm<T>("conv2d_implicit_gemm_mma (forward)", block_m_for(tiling, e.m, e.n, false), e, 1,
                          implicit_gemm::ForwardInputGather<T>{s, x}, implicit_gemm::ForwardWeightGather<T>{s, w},
                          Epilogue<T>{y, bias, nullptr, 0, false});
}

template <class T>
void backward_input_implicit_gemm(const Conv2dGeometry& g, const T* dy, const T* w, T* dx, Conv2dTiling tiling) {
  const BasicConv2dGeometry<int> s = int_geometry(g);
  check_implicit_gemm_offsets(g);
  const GemmExtent e =
      whole_k(g.batch * g.in_height * g.in_width, g.in_channels, g.kernel_height * g.kernel_width * g.out_channels);
  if (e.m == 0 || e.n == 0) return;
  launch_implicit_gemm<T>(
      "conv2d_implicit_gemm_mma (backward input)", block_m_for(tiling, e.m, e.n, false), e, 1,
      implicit_gemm::BackwardInputGradGather<T>{s, dy, g.dilation / g.stride, g.dilation % g.stride},
      implicit_gemm::BackwardInputWeightGather<T>{s, w}, Epilogue<T>{dx, nullptr, nullptr, 0, false});
}

template <class T>
void backward_weight_implicit_gemm(const Conv2dGeometry& g, const T* dy, const T* x, float* dw, float* dbias,
                                   float* scratch, Conv2dTiling tiling) {
  const BasicConv2dGeometry<int> s = int_geometry(g);
  check_implicit_gemm_offsets(g);
  const std::int64_t m = g.out_channels, n = weight_depth(g);
  if (m == 0 || n == 0) return;
  const WeightGradSplits split = implicit_gemm_splits(g, tiling);
  const GemmExtent e{int(m), int(n), int(output_pixels(g)), split.k_tiles_per_split};
  launch_implicit_gemm<T>(
      "conv2d_implicit_gemm_mma (backward weight)", block_m_for(tiling, m, n, true), e, split.splits,
      implicit_gemm::WeightGradOutputGather<T>{s, dy}, implicit_gemm::WeightGradInputGather<T>{s, x},
      Epilogue<float>{scratch, nullptr, dbias != nullptr ? scratch + m * n : nullptr, m * n + m, false});
  reduce_splits(g, split.splits, scratch, dw, dbias);
}

// ---- Simt ------------------------------------------------------------------------------------

int simt_pixels_per_split(const Conv2dGeometry& g, Conv2dTiling tiling) {
  const std::int64_t pixels = std::max<std::int64_t>(1, output_pixels(g));
  std::int64_t per_split = tiling.splits != 0 ? ceil_div(pixels, std::max(1, tiling.splits)) : kSimtPixelsPerSplit;
  per_split = std::max(per_split, ceil_div(pixels, kMaxGridYZ));
  return int(std::min(per_split, pixels));
}

int simt_splits(const Conv2dGeometry& g, Conv2dTiling tiling) {
  return int(ceil_div(std::max<std::int64_t>(1, output_pixels(g)), simt_pixels_per_split(g, tiling)));
}

template <class T>
void forward_simt(const Conv2dGeometry& g, const T* x, const T* w, const float* bias, T* y) {
  const std::int64_t count = output_pixels(g) * g.out_channels;
  if (count == 0) return;
  launch("conv2d_forward_thread_per_output", simt::conv2d_forward_thread_per_output<T>, grid_for(count, kSimtThreads),
         kSimtThreads, 0, cudaStreamLegacy, int_geometry(g), x, w, bias, y);
}

template <class T>
void backward_input_simt(const Conv2dGeometry& g, const T* dy, const T* w, T* dx) {
  const std::int64_t count = g.batch * g.in_height * g.in_width * g.in_channels;
  if (count == 0) return;
  launch("conv2d_backward_input_thread_per_input", simt::conv2d_backward_input_thread_per_input<T>,
         grid_for(count, kSimtThreads), kSimtThreads, 0, cudaStreamLegacy, int_geometry(g), dy, w, dx);
}

template <class T>
void backward_weight_simt(const Conv2dGeometry& g, const T* dy, const T* x, float* dw, float* dbias, float* scratch,
                          Conv2dTiling tiling) {
  const std::int64_t count = g.out_channels * (weight_depth(g) + 1);
  if (count == 0) return;
  const int splits = simt_splits(g, tiling);
  launch("conv2d_weight_grad_partials_thread_per_weight", simt::conv2d_weight_grad_partials_thread_per_weight<T>,
         dim3(grid_for(count, kSimtThreads), unsigned(splits)), kSimtThreads, 0, cudaStreamLegacy, int_geometry(g), dy,
         x, simt_pixels_per_split(g, tiling), scratch);
  reduce_splits(g, splits, scratch, dw, dbias);
}

}  // namespace

template <class T>
void conv2d_forward(Conv2dAlgo algo, const Conv2dGeometry& g, const T* x, const T* w, const float* bias, T* y,
                    Conv2dTiling tiling) {
  switch (algo) {
    case Conv2dAlgo::ImplicitGemmTensorCore:
      return forward_implicit_gemm(g, x, w, bias, y, tiling);
    case Conv2dAlgo::Simt:
      return forward_simt(g, x, w, bias, y);
    default:
      fail_not_native(algo);
  }
}

template <class T>
void conv2d_backward_input(Conv2dAlgo algo, const Conv2dGeometry& g, const T* dy, const T* w, T* dx,
                           Conv2dTiling tiling) {
  switch (algo) {
    case Conv2dAlgo::ImplicitGemmTensorCore:
      return backward_input_implicit_gemm(g, dy, w, dx, tiling);
    case Conv2dAlgo::Simt:
      return backward_input_simt(g, dy, w, dx);
    default:
      fail_not_native(algo);
  }
}

std::int64_t conv2d_backward_weight_scratch_floats(Conv2dAlgo algo, const Conv2dGeometry& g, Conv2dTiling tiling) {
  const std::int64_t per_split = g.out_channels * (weight_depth(g) + 1);
  switch (algo) {
    case Conv2dAlgo::ImplicitGemmTensorCore:
      return implicit_gemm_splits(g, tiling).splits * per_split;
    case Conv2dAlgo::Simt:
      return simt_splits(g, tiling) * per_split;
    default:
      fail_not_native(algo);
  }
}

template <class T>
void conv2d_backward_weight(Conv2dAlgo algo, const Conv2dGeometry& g, const T* dy, const T* x, float* dw, float* dbias,
                            float* scratch, Conv2dTiling tiling) {
  switch (algo) {
    case Conv2dAlgo::ImplicitGemmTensorCore:
      return backward_weight_implicit_gemm(g, dy, x, dw, dbias, scratch, tiling);
    case Conv2dAlgo::Simt:
      return backward_weight_simt(g, dy, x, dw, dbias, scratch, tiling);
    default:
      fail_not_native(algo);
  }
}

#define PANS_INSTANTIATE_CONV2D(T)                                                                                 \
  template void conv2d_forward<T>(Conv2dAlgo, const Conv2dGeometry&, const T*, const T*, const float*, T*,         \
                                  Conv2dTiling);                                                                   \
  template void conv2d_backward_input<T>(Conv2dAlgo, const Conv2dGeometry&, const T*, const T*, T*, Conv2dTiling); \
  template void conv2d_backward_weight<T>(Conv2dAlgo, const Conv2dGeometry&, const T*, const T*, float*, float*,   \
                                          float*, Conv2dTiling);
PANS_INSTANTIATE_CONV2D(float)
PANS_INSTANTIATE_CONV2D(bf16)
#undef PANS_INSTANTIATE_CONV2D

}  // namespace pans::cuda
