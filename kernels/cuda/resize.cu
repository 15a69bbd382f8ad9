// Bilinear resize (PyTorch's align_corners=False) on NHWC float32 or bfloat16 storage, forward and
// backward. Every kernel maps one thread to one element with the channel fastest (a grid-stride
// loop over the flat NHWC index), so a warp touches 32 consecutive elements of one pixel.
//
// Arithmetic: taps come from the shared bilinear_tap<float>; products and sums use __fmul_rn /
// __fadd_rn so that nvcc cannot contract them into FMAs, keeping the oracle's (and PyTorch's
// CPU) rounding. Inside bilinear_tap nvcc may still fuse scale*(dst+0.5)-0.5, which moves a tap's
// weight by an ulp on the GPU; on the emulator the results equal the oracle's bit for bit.
//
// The backward is a gather, one thread per input element summing the weighted dy of the outputs
// whose taps read it, in the oracle's scatter order: no atomics, deterministic.
//
// Storage: every kernel is templated on T = float or pans::bf16. Values are loaded into float
// (load_as_float), interpolated or summed in float exactly as above, and rounded once when
// stored (store_from_float), so the float instantiation is the float32 kernel unchanged and a
// bfloat16 one halves the bytes per element.
#include "kernels/cuda/grid_stride.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/nhwc_index.h"
#include "kernels/cuda/resize.h"
#include "kernels/shared/bilinear_tap.h"
#include "kernels/shared/float_storage.h"

namespace pans::cuda {
namespace {

constexpr unsigned int kThreads = 256;

// Equal sizes: y = x (the interpolation would turn an infinite neighbour's zero weight into NaN);
// a copy of the storage, bfloat16 patterns unchanged.
// Mapping: one thread per element, grid-stride. Bound: bandwidth, 2 * sizeof(T) bytes per element
// (8 B float32, 4 B bfloat16).
template <class T>
__global__ void resize_identity_copy(std::int64_t count, const T* from, T* to) {
  for (std::int64_t i : grid_stride_range(count)) to[i] = from[i];
}

// y[n,oy,ox,c] = h0*(w0*x[i0][j0] + w1*x[i0][j1]) + h1*(w0*x[i1][j0] + w1*x[i1][j1]) in this
// order (PyTorch's), with taps (i0,i1,h1) = bilinear_tap(oy), (j0,j1,w1) = bilinear_tap(ox).
// Mapping: one thread per output element, grid-stride. No shared memory: the four reads are
// neighbours that L1/L2 serve to adjacent threads.
// Bound: bandwidth when upsampling, sizeof(T) bytes of DRAM writes per output (4 B float32, 2 B
// bfloat16) plus x read about once; ~10 FLOPs and two tap evaluations per output.
template <class T>
__global__ void resize_bilinear_forward_four_taps(ResampleGeometry g, const T* x, T* y) {
  const std::int64_t count = g.batch * g.out_height * g.out_width * g.channels;
  for (std::int64_t i : grid_stride_range(count)) {
    const NhwcIndex out = unflatten_nhwc(i, g.out_height, g.out_width, g.channels);
    const BilinearTap<float> row = bilinear_tap<float>(out.y, g.in_height, g.out_height);
    const BilinearTap<float> col = bilinear_tap<float>(out.x, g.in_width, g.out_width);
    const float h1 = row.lambda1, h0 = 1.0f - h1;
    const float w1 = col.lambda1, w0 = 1.0f - w1;
    const T* image = x + out.n * g.in_height * g.in_width * g.channels + out.c;
    const auto at = [&](std::int64_t iy, std::int64_t ix) {
      return load_as_float(image + (iy * g.in_width + ix) * g.channels);
    };
    const float top = __fadd_rn(__fmul_rn(w0, at(row.i0, col.i0)), __fmul_rn(w1, at(row.i0, col.i1)));
    const float bottom = __fadd_rn(__fmul_rn(w0, at(row.i1, col.i0)), __fmul_rn(w1, at(row.i1, col.i1)));
    store_from_float(y + i, __fadd_rn(__fmul_rn(h0, top), __fmul_rn(h1, bottom)));
  }
}

// dx[n,iy,ix,c] = sum over outputs (oy,ox) whose taps read (iy,ix) of (row weight * column weight)
// * dy, in ascending (oy, ox) and, within one output, the oracle's tap order (i0j0, i0j1, i1j0,
// i1j1), so the sum rounds as the oracle's scatter does.
// Mapping: one thread per input element, grid-stride; bilinear_readers_superset bounds the
// candidate outputs per axis, and each candidate's taps decide whether and with what weight.
// Bound: bandwidth when up- or downsampling by small factors (dx written once, sizeof(T) bytes per
// input element, dy read ~4 times from cache). A large upsampling factor r gives each thread ~(2r+5)^2 candidates (1 ->
// 57: all 57x57 outputs for N*C threads), so it turns latency-bound; a two-pass separable gather would fix that if it
// ever shows in a profile. Precondition: out sizes below 2^20 per axis (bilinear_readers_superset's rounding margin).
template <class T>
__global__ void resize_bilinear_backward_tap_gather(ResampleGeometry g, const T* dy, T* dx) {
  const std::int64_t count = g.batch * g.in_height * g.in_width * g.channels;
  for (std::int64_t i : grid_stride_range(count)) {
    const NhwcIndex in = unflatten_nhwc(i, g.in_height, g.in_width, g.channels);
    const BilinearReaders row_readers = bilinear_readers_superset(in.y, g.in_height, g.out_height);
    const BilinearReaders col_readers = bilinear_readers_superset(in.x, g.in_width, g.out_width);
    const T* image_grad = dy + in.n * g.out_height * g.out_width * g.channels + in.c;
    float sum = 0.0f;
    for (std::int64_t oy = row_readers.start; oy < row_readers.end; ++oy) {
      const BilinearTap<float> row = bilinear_tap<float>(oy, g.in_height, g.out_height);
      const bool top = row.i0 == in.y, bottom = row.i1 == in.y;
      if (!top && !bottom) continue;
      const float h1 = row.lambda1, h0 = 1.0f - h1;
      for (std::int64_t ox = col_readers.start; ox < col_readers.end; ++ox) {
        const BilinearTap<float> col = bilinear_tap<float>(ox, g.in_width, g.out_width);
        const bool left = col.i0 == in.x, right = col.i1 == in.x;
        if (!left && !right) continue;
        const float w1 = col.lambda1, w0 = 1.0f - w1;
        const float grad = load_as_float(image_grad + (oy * g.out_width + ox) * g.channels);
        if (top && left) sum = __fadd_rn(sum, __fmul_rn(__fmul_rn(h0, w0), grad));
        if (top && right) sum = __fadd_rn(sum, __fmul_rn(__fmul_rn(h0, w1), grad));
        if (bottom && left) sum = __fadd_rn(sum, __fmul_rn(__fmul_rn(h1, w0), grad));
        if (bottom && right) sum = __fadd_rn(sum, __fmul_rn(__fmul_rn(h1, w1), grad));
      }
    }
    store_from_float(dx + i, sum);
  }
}

bool is_identity(const ResampleGeometry& g) { return g.in_height == g.out_height && g.in_width == g.out_width; }

}  // namespace

template <class T>
void resize_bilinear_forward(const ResampleGeometry& g, const T* x, T* y) {
  const std::int64_t count = g.batch * g.out_height * g.out_width * g.channels;
  if (count == 0) return;
  if (is_identity(g)) {
    launch("resize_identity_copy", resize_identity_copy<T>, grid_for(count, kThreads), kThreads, 0, cudaStreamLegacy,
           count, x, y);
    return;
  }
  launch("resize_bilinear_forward_four_taps", resize_bilinear_forward_four_taps<T>, grid_for(count, kThreads), kThreads,
         0, cudaStreamLegacy, g, x, y);
}

template <class T>
void resize_bilinear_backward(const ResampleGeometry& g, const T* dy, T* dx) {
  const std::int64_t count = g.batch * g.in_height * g.in_width * g.channels;
  if (count == 0) return;
  if (is_identity(g)) {
    launch("resize_identity_copy", resize_identity_copy<T>, grid_for(count, kThreads), kThreads, 0, cudaStreamLegacy,
           count, dy, dx);
    return;
  }
  launch("resize_bilinear_backward_tap_gather", resize_bilinear_backward_tap_gather<T>, grid_for(count, kThreads),
         kThreads, 0, cudaStreamLegacy, g, dy, dx);
}

template void resize_bilinear_forward<float>(const ResampleGeometry&, const float*, float*);
template void resize_bilinear_forward<bf16>(const ResampleGeometry&, const bf16*, bf16*);
template void resize_bilinear_backward<float>(const ResampleGeometry&, const float*, float*);
template void resize_bilinear_backward<bf16>(const ResampleGeometry&, const bf16*, bf16*);

}  // namespace pans::cuda
