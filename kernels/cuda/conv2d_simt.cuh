// Plain SIMT convolution (fp32 FMA, no tensor cores), included by kernels/cuda/conv2d.cu: the
// algorithm for what the implicit-GEMM kernel does not take (the 3-channel stem, channel counts
// that are not multiples of its 16-byte chunks, misaligned pointers, empty channel extents).
// Every kernel maps one thread to one output element with the channel fastest (grid-stride) and
// sums in float in a fixed order, so results are deterministic. Storage T = float or pans::bf16,
// arithmetic float.
#pragma once

#include <cstdint>

#include "kernels/cuda/grid_stride.h"
#include "kernels/cuda/launch.h"
#include "kernels/shared/conv2d_geometry.h"
#include "kernels/shared/float_storage.h"
#include "tensor/dtype.h"

namespace pans::cuda::simt {

// y[n,oy,ox,co] = bias[co] + sum over taps inside the image and ci of x * w.
// Mapping: one thread per output element, co fastest, grid-stride. No shared memory: a warp's 32
// consecutive co read the same x values (broadcast) and 32 weight rows that stay in L1/L2.
// Bound: latency/L1 for the stem (K = 147 FMAs per output, 2 loads each); it exists for
// correctness on the layers tensor cores do not take, which hold < 1% of the network's FLOPs.
template <class T>
__global__ void conv2d_forward_thread_per_output(BasicConv2dGeometry<int> s, const T* x, const T* w, const float* bias,
                                                 T* y) {
  const std::int64_t count = std::int64_t(s.batch) * s.out_height * s.out_width * s.out_channels;
  for (std::int64_t i : grid_stride_range(count)) {
    const int co = int(i % s.out_channels);
    const std::int64_t pixel = i / s.out_channels;
    const int ox = int(pixel % s.out_width), oy = int(pixel / s.out_width % s.out_height);
    const std::int64_t n = pixel / (std::int64_t(s.out_width) * s.out_height);
    const T* image = x + n * s.in_height * s.in_width * s.in_channels;
    const T* filter = w + std::int64_t(co) * s.kernel_height * s.kernel_width * s.in_channels;
    float sum = 0.0f;
    for (int ky = 0; ky < s.kernel_height; ++ky) {
      const int iy = oy * s.stride - s.padding + ky * s.dilation;
      if (iy < 0 || iy >= s.in_height) continue;
      for (int kx = 0; kx < s.kernel_width; ++kx) {
        const int ix = ox * s.stride - s.padding + kx * s.dilation;
        if (ix < 0 || ix >= s.in_width) continue;
        const T* in = image + (std::int64_t(iy) * s.in_width + ix) * s.in_channels;
        const T* tap = filter + (std::int64_t(ky) * s.kernel_width + kx) * s.in_channels;
        for (int ci = 0; ci < s.in_channels; ++ci) sum += load_as_float(in + ci) * load_as_float(tap + ci);
      }
    }
    store_from_float(y + i, sum + (bias != nullptr ? bias[co] : 0.0f));
  }
}

// dx[n,iy,ix,ci] = sum over (ky,kx) with oy = (iy + p - ky*d)/s integral and inside, and co, of
// dy[n,oy,ox,co] * w[co,ky,kx,ci].
// Mapping: one thread per input element, ci fastest, grid-stride: a gather, no atomics. A warp's
// consecutive ci read one dy value (broadcast) and consecutive weights (coalesced).
// Bound: latency/L1, KH*KW*Cout/s^2 FMAs per element.
template <class T>
__global__ void conv2d_backward_input_thread_per_input(BasicConv2dGeometry<int> s, const T* dy, const T* w, T* dx) {
  const std::int64_t count = std::int64_t(s.batch) * s.in_height * s.in_width * s.in_channels;
  const std::int64_t taps = std::int64_t(s.kernel_height) * s.kernel_width;
  for (std::int64_t i : grid_stride_range(count)) {
    const int ci = int(i % s.in_channels);
    const std::int64_t pixel = i / s.in_channels;
    const int ix = int(pixel % s.in_width), iy = int(pixel / s.in_width % s.in_height);
    const std::int64_t n = pixel / (std::int64_t(s.in_width) * s.in_height);
    const T* image = dy + n * s.out_height * s.out_width * s.out_channels;
    float sum = 0.0f;
    for (int ky = 0; ky < s.kernel_height; ++ky) {
      const int ty = iy + s.padding - ky * s.dilation;
      if (ty < 0 || ty % s.stride != 0 || ty / s.stride >= s.out_height) continue;
      for (int kx = 0; kx < s.kernel_width; ++kx) {
        const int tx = ix + s.padding - kx * s.dilation;
        if (tx < 0 || tx % s.stride != 0 || tx / s.stride >= s.out_width) continue;
        const T* out = image + (std::int64_t(ty / s.stride) * s.out_width + tx / s.stride) * s.out_channels;
        const T* tap = w + (std::int64_t(ky) * s.kernel_width + kx) * s.in_channels + ci;
        for (int co = 0; co < s.out_channels; ++co)
          sum += load_as_float(out + co) * load_as_float(tap + co * taps * s.in_channels);
      }
    }
    store_from_float(dx + i, sum);
  }
}

// Split partials of the weight and bias gradients: for split z = blockIdx.y, over the output
// pixels [z*pixels_per_split, ...), element e < Cout*K (K = KH*KW*Cin) of the partial is
// sum dy[pixel, co] * x[pixel's tap input, ci] with (co, tap, ci) = e; element Cout*K + co is
// sum dy[pixel, co]. Written (=) to partials[z * (Cout*K + Cout) + e], the layout the implicit-GEMM
// wgrad writes too; conv2d_weight_grad_reduce_splits adds them up.
// Mapping: grid.y = splits; one thread per element, ci fastest, grid-stride along x. A warp reads
// consecutive x channels (coalesced) and one dy value (broadcast) per pixel.
// Bound: latency/L1, 1 FMA per 2 loads over the split's pixels.
template <class T>
__global__ void conv2d_weight_grad_partials_thread_per_weight(BasicConv2dGeometry<int> s, const T* dy, const T* x,
                                                              int pixels_per_split, float* partials) {
  const std::int64_t depth = std::int64_t(s.kernel_height) * s.kernel_width * s.in_channels;
  const std::int64_t weights = s.out_channels * depth, count = weights + s.out_channels;
  const int pixels = s.batch * s.out_height * s.out_width;
  const int first = int(blockIdx.y) * pixels_per_split;
  const int last = int(min(static_cast<long long>(pixels), static_cast<long long>(first) + pixels_per_split));
  for (std::int64_t e : grid_stride_range(count)) {
    float sum = 0.0f;
    if (e < weights) {
      const int co = int(e / depth), ci = int(e % s.in_channels);
      const int tap = int(e % depth / s.in_channels);
      const int dy_ = tap / s.kernel_width * s.dilation, dx_ = tap % s.kernel_width * s.dilation;
      for (int p = first; p < last; ++p) {
        const int ox = p % s.out_width, oy = p / s.out_width % s.out_height, n = p / (s.out_width * s.out_height);
        const int iy = oy * s.stride - s.padding + dy_, ix = ox * s.stride - s.padding + dx_;
        if (iy < 0 || iy >= s.in_height || ix < 0 || ix >= s.in_width) continue;
        const std::int64_t in = ((std::int64_t(n) * s.in_height + iy) * s.in_width + ix) * s.in_channels + ci;
        sum += load_as_float(dy + std::int64_t(p) * s.out_channels + co) * load_as_float(x + in);
      }
    } else {
      const int co = int(e - weights);
      for (int p = first; p < last; ++p) sum += load_as_float(dy + std::int64_t(p) * s.out_channels + co);
    }
    partials[std::int64_t(blockIdx.y) * count + e] = sum;
  }
}

}  // namespace pans::cuda::simt
