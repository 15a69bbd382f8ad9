// PyTorch's source taps for bilinear resampling with align_corners=False (UpSample.cuh
// area_pixel_compute_source_index and the bilinear kernel), shared by the CPU oracle and the CUDA
// kernels: per axis, output index dst reads i0 with weight 1 - lambda1 and i1 with weight lambda1.
// T is the accumulation type; the expression order is PyTorch's, so float results match its bits.
#pragma once

#include <cstdint>

#include "tensor/host_device.h"

namespace pans {

template <class T>
struct BilinearTap {
  std::int64_t i0, i1;
  T lambda1;  // the weight of i1; i0 gets 1 - lambda1
};

template <class T>
PANS_HOST_DEVICE inline BilinearTap<T> bilinear_tap(std::int64_t dst, std::int64_t in_size, std::int64_t out_size) {
  const T scale = T(in_size) / T(out_size);
  const T unclamped = scale * (T(dst) + T(0.5)) - T(0.5);
  const T src = unclamped < T(0) ? T(0) : unclamped;
  const std::int64_t i0 = std::int64_t(src);
  return {i0, i0 + (i0 < in_size - 1 ? 1 : 0), src - T(i0)};
}

// A range [start, end) of output indices that contains every dst whose taps read input index i,
// for gradients gathered per input element; callers test each candidate's taps. Those dst have
// i0 in {i-1, i}, i.e. src in [i-1, i+1), which in exact arithmetic is
//   ((2i-1)*out - in) / (2*in) <= dst < ((2i+3)*out - in) / (2*in),
// and, for i <= 1, also the first outputs, whose src clamps to 0 (taps 0 and 1, weight 0 on 1:
// it still counts, as 0 * dy is NaN for an infinite dy). Rounding moves src by a few ulps, less
// than one output step while out_size < 2^20; the range is widened by two steps on each side.
struct BilinearReaders {
  std::int64_t start, end;
};
PANS_HOST_DEVICE inline BilinearReaders bilinear_readers_superset(std::int64_t i, std::int64_t in_size,
                                                                  std::int64_t out_size) {
  const auto floor_div = [](std::int64_t a, std::int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); };
  const std::int64_t start = i <= 1 ? 0 : floor_div((2 * i - 1) * out_size - in_size, 2 * in_size) - 2;
  const std::int64_t end = floor_div((2 * i + 3) * out_size - in_size, 2 * in_size) + 3;
  return {start < 0 ? 0 : start, end > out_size ? out_size : end};
}

}  // namespace pans
