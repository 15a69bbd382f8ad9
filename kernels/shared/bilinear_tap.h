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

}  // namespace pans
