// Max pooling (with int32 argmax) and adaptive average pooling on NHWC float32 or bfloat16
// storage, forward and backward. Every kernel maps one thread to one element with the channel
// fastest (a grid-stride loop over the flat NHWC index), so a warp touches 32 consecutive
// elements of one pixel.
//
// The backward passes are gathers, one thread per input element summing the few output elements
// that reach it, in the order the CPU oracle scatters them (ascending output pixel): no atomics,
// deterministic, and equal to the oracle bit for bit (only additions and one IEEE division).
//
// Storage: every kernel is templated on T = float or pans::bf16. Values are loaded into float
// (load_as_float), compared or summed in float as described, and rounded once when stored
// (store_from_float): the float instantiation is the float32 kernel unchanged; for bfloat16 a
// max-pool output is an input value, stored exactly, and the sums round once to bfloat16.
#include <cmath>  // INFINITY

#include "kernels/cuda/grid_stride.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/nhwc_index.h"
#include "kernels/cuda/pool.h"
#include "kernels/shared/adaptive_pool_bin.h"
#include "kernels/shared/float_storage.h"
#include "kernels/shared/max_pool_window.h"

namespace pans::cuda {
namespace {

constexpr unsigned int kThreads = 256;

// y[n,oy,ox,c] = max of x over the window's part inside the image, argmax its flat iy*W+ix.
// Mapping: one thread per output element, grid-stride. No shared memory: the k*k reads per output
// are served by L1/L2 (a 3x3/2 window re-reads each input ~2.25 times).
// Bound: bandwidth, x read once overall (with stride 2 an output owns ~4 inputs) and y, argmax
// written: ~24 B of DRAM traffic per output for float32 (16 x, 4 y, 4 argmax), ~14 B for
// bfloat16 (8 x, 2 y, 4 argmax), plus int64 index arithmetic, for a handful of compares.
// Rules, as the oracle: strictly greater wins (the first of equal values stays); a NaN is always
// taken, so the last NaN of the window wins and propagates.
template <class T>
__global__ void max_pool2d_forward_window_scan(MaxPool2dGeometry g, const T* x, T* y, std::int32_t* argmax) {
  const std::int64_t count = g.batch * g.out_height * g.out_width * g.channels;
  for (std::int64_t i : grid_stride_range(count)) {
    const NhwcIndex out = unflatten_nhwc(i, g.out_height, g.out_width, g.channels);
    const PoolBin rows = max_pool_window(out.y, g.in_height, g.kernel_size, g.stride, g.padding);
    const PoolBin cols = max_pool_window(out.x, g.in_width, g.kernel_size, g.stride, g.padding);
    const T* image = x + out.n * g.in_height * g.in_width * g.channels + out.c;
    float best = -INFINITY;
    std::int64_t best_index = rows.start * g.in_width + cols.start;
    for (std::int64_t iy = rows.start; iy < rows.end; ++iy)
      for (std::int64_t ix = cols.start; ix < cols.end; ++ix) {
        const float value = load_as_float(image + (iy * g.in_width + ix) * g.channels);
        if (value > best || value != value) {  // value != value: isnan, spelled alike for nvcc and g++
          best = value;
          best_index = iy * g.in_width + ix;
        }
      }
    store_from_float(y + i, best);
    argmax[i] = std::int32_t(best_index);
  }
}

// dx[n,iy,ix,c] = sum of dy over the outputs whose window contains (iy,ix) and chose it.
// Mapping: one thread per input element, grid-stride; it visits the at most ceil(k/s)^2 windows
// covering it (2x2 for 3x3/2) in ascending output order, the oracle's scatter order.
// Bound: bandwidth, dx written once (sizeof(T) bytes per input: 4 B float32, 2 B bfloat16) and
// dy, argmax read ~once overall from cache.
// Precondition: argmax from max_pool2d_forward_window_scan with this geometry.
template <class T>
__global__ void max_pool2d_backward_window_gather(MaxPool2dGeometry g, const T* dy, const std::int32_t* argmax, T* dx) {
  const std::int64_t count = g.batch * g.in_height * g.in_width * g.channels;
  for (std::int64_t i : grid_stride_range(count)) {
    const NhwcIndex in = unflatten_nhwc(i, g.in_height, g.in_width, g.channels);
    const PoolBin rows = max_pool_windows_covering(in.y, g.out_height, g.kernel_size, g.stride, g.padding);
    const PoolBin cols = max_pool_windows_covering(in.x, g.out_width, g.kernel_size, g.stride, g.padding);
    const std::int32_t me = std::int32_t(in.y * g.in_width + in.x);
    const std::int64_t image = in.n * g.out_height * g.out_width;
    float sum = 0.0f;
    for (std::int64_t oy = rows.start; oy < rows.end; ++oy)
      for (std::int64_t ox = cols.start; ox < cols.end; ++ox) {
        const std::int64_t out = (image + oy * g.out_width + ox) * g.channels + in.c;
        if (argmax[out] == me) sum += load_as_float(dy + out);
      }
    store_from_float(dx + i, sum);
  }
}

// y[n,oy,ox,c] = (sum of x over the bin, row-major, in float) / area, exactly the oracle's order.
// Mapping: one thread per output element, grid-stride; the thread walks its whole bin.
// Bound: bandwidth when the output is large; for the PSP's small outputs (1x1, 2x2) only N*C*OH*OW
// threads exist, each walking a long bin, so it is latency-bound (a split-bin reduction with
// partials would fill the GPU better). Bins overlap by at most one row/column, so x is read
// about once overall: sizeof(T) bytes per input element (4 B float32, 2 B bfloat16).
template <class T>
__global__ void adaptive_avg_pool2d_forward_bin_sum(ResampleGeometry g, const T* x, T* y) {
  const std::int64_t count = g.batch * g.out_height * g.out_width * g.channels;
  for (std::int64_t i : grid_stride_range(count)) {
    const NhwcIndex out = unflatten_nhwc(i, g.out_height, g.out_width, g.channels);
    const PoolBin rows = adaptive_pool_bin(out.y, g.in_height, g.out_height);
    const PoolBin cols = adaptive_pool_bin(out.x, g.in_width, g.out_width);
    const T* image = x + out.n * g.in_height * g.in_width * g.channels + out.c;
    float sum = 0.0f;
    for (std::int64_t iy = rows.start; iy < rows.end; ++iy)
      for (std::int64_t ix = cols.start; ix < cols.end; ++ix)
        sum += load_as_float(image + (iy * g.in_width + ix) * g.channels);
    store_from_float(y + i, sum / float((rows.end - rows.start) * (cols.end - cols.start)));
  }
}

// dx[n,iy,ix,c] = sum over the cells whose bins cover (iy,ix) of dy / that cell's area, summed in
// ascending cell order as the oracle's scatter adds them.
// Mapping: one thread per input element, grid-stride; adaptive_pool_cells_covering gives the one
// or two cells per axis (more only when out > in).
// Bound: bandwidth, dx written once (sizeof(T) bytes per input: 4 B float32, 2 B bfloat16); dy
// is small and cached.
template <class T>
__global__ void adaptive_avg_pool2d_backward_bin_gather(ResampleGeometry g, const T* dy, T* dx) {
  const std::int64_t count = g.batch * g.in_height * g.in_width * g.channels;
  for (std::int64_t i : grid_stride_range(count)) {
    const NhwcIndex in = unflatten_nhwc(i, g.in_height, g.in_width, g.channels);
    const PoolBin cell_rows = adaptive_pool_cells_covering(in.y, g.in_height, g.out_height);
    const PoolBin cell_cols = adaptive_pool_cells_covering(in.x, g.in_width, g.out_width);
    const std::int64_t image = in.n * g.out_height * g.out_width;
    float sum = 0.0f;
    for (std::int64_t oy = cell_rows.start; oy < cell_rows.end; ++oy) {
      const PoolBin rows = adaptive_pool_bin(oy, g.in_height, g.out_height);
      for (std::int64_t ox = cell_cols.start; ox < cell_cols.end; ++ox) {
        const PoolBin cols = adaptive_pool_bin(ox, g.in_width, g.out_width);
        const float area = float((rows.end - rows.start) * (cols.end - cols.start));
        sum += load_as_float(dy + (image + oy * g.out_width + ox) * g.channels + in.c) / area;
      }
    }
    store_from_float(dx + i, sum);
  }
}

}  // namespace

template <class T>
void max_pool2d_forward(const MaxPool2dGeometry& g, const T* x, T* y, std::int32_t* argmax) {
  const std::int64_t count = g.batch * g.out_height * g.out_width * g.channels;
  if (count == 0) return;
  launch("max_pool2d_forward_window_scan", max_pool2d_forward_window_scan<T>, grid_for(count, kThreads), kThreads, 0,
         cudaStreamLegacy, g, x, y, argmax);
}

template <class T>
void max_pool2d_backward(const MaxPool2dGeometry& g, const T* dy, const std::int32_t* argmax, T* dx) {
  const std::int64_t count = g.batch * g.in_height * g.in_width * g.channels;
  if (count == 0) return;
  launch("max_pool2d_backward_window_gather", max_pool2d_backward_window_gather<T>, grid_for(count, kThreads), kThreads,
         0, cudaStreamLegacy, g, dy, argmax, dx);
}

template <class T>
void adaptive_avg_pool2d_forward(const ResampleGeometry& g, const T* x, T* y) {
  const std::int64_t count = g.batch * g.out_height * g.out_width * g.channels;
  if (count == 0) return;
  launch("adaptive_avg_pool2d_forward_bin_sum", adaptive_avg_pool2d_forward_bin_sum<T>, grid_for(count, kThreads),
         kThreads, 0, cudaStreamLegacy, g, x, y);
}

template <class T>
void adaptive_avg_pool2d_backward(const ResampleGeometry& g, const T* dy, T* dx) {
  const std::int64_t count = g.batch * g.in_height * g.in_width * g.channels;
  if (count == 0) return;
  launch("adaptive_avg_pool2d_backward_bin_gather", adaptive_avg_pool2d_backward_bin_gather<T>,
         grid_for(count, kThreads), kThreads, 0, cudaStreamLegacy, g, dy, dx);
}

template void max_pool2d_forward<float>(const MaxPool2dGeometry&, const float*, float*, std::int32_t*);
template void max_pool2d_forward<bf16>(const MaxPool2dGeometry&, const bf16*, bf16*, std::int32_t*);
template void max_pool2d_backward<float>(const MaxPool2dGeometry&, const float*, const std::int32_t*, float*);
template void max_pool2d_backward<bf16>(const MaxPool2dGeometry&, const bf16*, const std::int32_t*, bf16*);
template void adaptive_avg_pool2d_forward<float>(const ResampleGeometry&, const float*, float*);
template void adaptive_avg_pool2d_forward<bf16>(const ResampleGeometry&, const bf16*, bf16*);
template void adaptive_avg_pool2d_backward<float>(const ResampleGeometry&, const float*, float*);
template void adaptive_avg_pool2d_backward<bf16>(const ResampleGeometry&, const bf16*, bf16*);

}  // namespace pans::cuda
