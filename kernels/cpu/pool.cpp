#include "kernels/cpu/pool.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/shared/adaptive_pool_bin.h"
#include "kernels/shared/max_pool_window.h"

namespace pans::cpu {
namespace {

PoolBin window_inside(std::int64_t out_index, std::int64_t in_size, const MaxPool2dGeometry& g) {
  return max_pool_window(out_index, in_size, g.kernel_size, g.stride, g.padding);
}

}  // namespace

template <class T>
void max_pool2d_forward(const MaxPool2dGeometry& g, const T* x, T* y, std::int32_t* argmax) {
  for (std::int64_t n = 0; n < g.batch; ++n) {
    const T* image = x + n * g.in_height * g.in_width * g.channels;
    for (std::int64_t oy = 0; oy < g.out_height; ++oy) {
      const PoolBin rows = window_inside(oy, g.in_height, g);
      for (std::int64_t ox = 0; ox < g.out_width; ++ox) {
        const PoolBin cols = window_inside(ox, g.in_width, g);
        const std::int64_t out = ((n * g.out_height + oy) * g.out_width + ox) * g.channels;
        for (std::int64_t c = 0; c < g.channels; ++c) {
          T best = -std::numeric_limits<T>::infinity();
          std::int64_t best_index = rows.start * g.in_width + cols.start;
          for (std::int64_t iy = rows.start; iy < rows.end; ++iy)
            for (std::int64_t ix = cols.start; ix < cols.end; ++ix) {
              const T value = image[(iy * g.in_width + ix) * g.channels + c];
              // Strictly greater keeps the first of equal values; NaN is taken so that it propagates.
              if (value > best || std::isnan(value)) {
                best = value;
                best_index = iy * g.in_width + ix;
              }
            }
          y[out + c] = best;
          argmax[out + c] = std::int32_t(best_index);
        }
      }
    }
  }
}

template <class T>
void max_pool2d_backward(const MaxPool2dGeometry& g, const T* dy, const std::int32_t* argmax, T* dx) {
  const std::int64_t image_size = g.in_height * g.in_width * g.channels;
  const std::int64_t out_pixels = g.out_height * g.out_width;
  std::fill(dx, dx + g.batch * image_size, T(0));
  for (std::int64_t n = 0; n < g.batch; ++n)
    for (std::int64_t p = 0; p < out_pixels; ++p)
      for (std::int64_t c = 0; c < g.channels; ++c) {
        const std::int64_t out = (n * out_pixels + p) * g.channels + c;
        dx[n * image_size + std::int64_t(argmax[out]) * g.channels + c] += dy[out];
      }
}

template <class T>
void adaptive_avg_pool2d_forward(const ResampleGeometry& g, const T* x, T* y) {
  for (std::int64_t n = 0; n < g.batch; ++n) {
    const T* image = x + n * g.in_height * g.in_width * g.channels;
    for (std::int64_t oy = 0; oy < g.out_height; ++oy) {
      const PoolBin rows = adaptive_pool_bin(oy, g.in_height, g.out_height);
      for (std::int64_t ox = 0; ox < g.out_width; ++ox) {
        const PoolBin cols = adaptive_pool_bin(ox, g.in_width, g.out_width);
        const std::int64_t area = (rows.end - rows.start) * (cols.end - cols.start);
        const std::int64_t out = ((n * g.out_height + oy) * g.out_width + ox) * g.channels;
        for (std::int64_t c = 0; c < g.channels; ++c) {
          T sum = 0;
          for (std::int64_t iy = rows.start; iy < rows.end; ++iy)
            for (std::int64_t ix = cols.start; ix < cols.end; ++ix)
              sum += image[(iy * g.in_width + ix) * g.channels + c];
          y[out + c] = sum / T(area);
        }
      }
    }
  }
}

// A scatter: each output cell spreads dy / area over its bin. Overlapping bins add up, in a fixed
// order, so the result is deterministic.
template <class T>
void adaptive_avg_pool2d_backward(const ResampleGeometry& g, const T* dy, T* dx) {
  const std::int64_t image_size = g.in_height * g.in_width * g.channels;
  std::fill(dx, dx + g.batch * image_size, T(0));
  for (std::int64_t n = 0; n < g.batch; ++n) {
    T* image_grad = dx + n * image_size;
    for (std::int64_t oy = 0; oy < g.out_height; ++oy) {
      const PoolBin rows = adaptive_pool_bin(oy, g.in_height, g.out_height);
      for (std::int64_t ox = 0; ox < g.out_width; ++ox) {
        const PoolBin cols = adaptive_pool_bin(ox, g.in_width, g.out_width);
        const std::int64_t area = (rows.end - rows.start) * (cols.end - cols.start);
        const std::int64_t out = ((n * g.out_height + oy) * g.out_width + ox) * g.channels;
        for (std::int64_t c = 0; c < g.channels; ++c) {
          const T share = dy[out + c] / T(area);
          for (std::int64_t iy = rows.start; iy < rows.end; ++iy)
            for (std::int64_t ix = cols.start; ix < cols.end; ++ix)
              image_grad[(iy * g.in_width + ix) * g.channels + c] += share;
        }
      }
    }
  }
}

#define PANS_INSTANTIATE_POOL(T)                                                                     \
  template void max_pool2d_forward<T>(const MaxPool2dGeometry&, const T*, T*, std::int32_t*);        \
  template void max_pool2d_backward<T>(const MaxPool2dGeometry&, const T*, const std::int32_t*, T*); \
  template void adaptive_avg_pool2d_forward<T>(const ResampleGeometry&, const T*, T*);               \
  template void adaptive_avg_pool2d_backward<T>(const ResampleGeometry&, const T*, T*);
PANS_INSTANTIATE_POOL(float)
PANS_INSTANTIATE_POOL(double)
#undef PANS_INSTANTIATE_POOL

}  // namespace pans::cpu
