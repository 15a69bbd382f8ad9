#include "kernels/cpu/resize.h"

#include <algorithm>
#include <vector>

#include "kernels/shared/bilinear_tap.h"

namespace pans::cpu {
namespace {

template <class T>
std::vector<BilinearTap<T>> axis_taps(std::int64_t in_size, std::int64_t out_size) {
  std::vector<BilinearTap<T>> taps(static_cast<std::size_t>(out_size));
  for (std::int64_t dst = 0; dst < out_size; ++dst) taps[std::size_t(dst)] = bilinear_tap<T>(dst, in_size, out_size);
  return taps;
}

bool is_identity(const ResampleGeometry& g) { return g.in_height == g.out_height && g.in_width == g.out_width; }

}  // namespace

template <class T>
void resize_bilinear_forward(const ResampleGeometry& g, const T* x, T* y) {
  if (is_identity(g)) {
    std::copy(x, x + g.batch * g.in_height * g.in_width * g.channels, y);
    return;
  }
  const std::vector<BilinearTap<T>> rows = axis_taps<T>(g.in_height, g.out_height);
  const std::vector<BilinearTap<T>> cols = axis_taps<T>(g.in_width, g.out_width);
  for (std::int64_t n = 0; n < g.batch; ++n) {
    const T* image = x + n * g.in_height * g.in_width * g.channels;
    auto at = [&](std::int64_t iy, std::int64_t ix, std::int64_t c) {
      return image[(iy * g.in_width + ix) * g.channels + c];
    };
    for (std::int64_t oy = 0; oy < g.out_height; ++oy) {
      const BilinearTap<T>& row = rows[std::size_t(oy)];
      const T h1lambda = row.lambda1, h0lambda = T(1) - h1lambda;
      for (std::int64_t ox = 0; ox < g.out_width; ++ox) {
        const BilinearTap<T>& col = cols[std::size_t(ox)];
        const T w1lambda = col.lambda1, w0lambda = T(1) - w1lambda;
        T* out = y + ((n * g.out_height + oy) * g.out_width + ox) * g.channels;
        for (std::int64_t c = 0; c < g.channels; ++c)
          out[c] = h0lambda * (w0lambda * at(row.i0, col.i0, c) + w1lambda * at(row.i0, col.i1, c)) +
                   h1lambda * (w0lambda * at(row.i1, col.i0, c) + w1lambda * at(row.i1, col.i1, c));
      }
    }
  }
}

// A scatter of each output's four weighted gradients, in a fixed order: deterministic, unlike the
// atomicAdd scatter of PyTorch's CUDA kernel.
template <class T>
void resize_bilinear_backward(const ResampleGeometry& g, const T* dy, T* dx) {
  const std::int64_t image_size = g.in_height * g.in_width * g.channels;
  if (is_identity(g)) {
    std::copy(dy, dy + g.batch * image_size, dx);
    return;
  }
  std::fill(dx, dx + g.batch * image_size, T(0));
  const std::vector<BilinearTap<T>> rows = axis_taps<T>(g.in_height, g.out_height);
  const std::vector<BilinearTap<T>> cols = axis_taps<T>(g.in_width, g.out_width);
  for (std::int64_t n = 0; n < g.batch; ++n) {
    T* image_grad = dx + n * image_size;
    auto at = [&](std::int64_t iy, std::int64_t ix, std::int64_t c) -> T& {
      return image_grad[(iy * g.in_width + ix) * g.channels + c];
    };
    for (std::int64_t oy = 0; oy < g.out_height; ++oy) {
      const BilinearTap<T>& row = rows[std::size_t(oy)];
      const T h1lambda = row.lambda1, h0lambda = T(1) - h1lambda;
      for (std::int64_t ox = 0; ox < g.out_width; ++ox) {
        const BilinearTap<T>& col = cols[std::size_t(ox)];
        const T w1lambda = col.lambda1, w0lambda = T(1) - w1lambda;
        const T* out_grad = dy + ((n * g.out_height + oy) * g.out_width + ox) * g.channels;
        for (std::int64_t c = 0; c < g.channels; ++c) {
          at(row.i0, col.i0, c) += h0lambda * w0lambda * out_grad[c];
          at(row.i0, col.i1, c) += h0lambda * w1lambda * out_grad[c];
          at(row.i1, col.i0, c) += h1lambda * w0lambda * out_grad[c];
          at(row.i1, col.i1, c) += h1lambda * w1lambda * out_grad[c];
        }
      }
    }
  }
}

#define PANS_INSTANTIATE_RESIZE(T)                                                 \
  template void resize_bilinear_forward<T>(const ResampleGeometry&, const T*, T*); \
  template void resize_bilinear_backward<T>(const ResampleGeometry&, const T*, T*);
PANS_INSTANTIATE_RESIZE(float)
PANS_INSTANTIATE_RESIZE(double)
#undef PANS_INSTANTIATE_RESIZE

}  // namespace pans::cpu
