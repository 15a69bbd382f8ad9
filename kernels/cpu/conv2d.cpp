#include "kernels/cpu/conv2d.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/gemm.h"

namespace pans::cpu {
namespace {

// Column matrix of one image: row p = oy*Wo + ox, column k = (ky*KW + kx)*Cin + ci. Its K index
// order equals the weight's {kh, kw, in} order, so the convolution is col[P,K] x w[Cout,K]^T.
std::int64_t column_width(const Conv2dGeometry& g) { return g.kernel_height * g.kernel_width * g.in_channels; }

bool is_pointwise(const Conv2dGeometry& g) {
  return g.kernel_height == 1 && g.kernel_width == 1 && g.stride == 1 && g.padding == 0;
}

// Calls visit(column_offset, image_offset or -1 for padding, channel count) for every run of Cin
// contiguous channels that one (output pixel, kernel tap) pair reads.
template <class Visit>
void for_each_tap(const Conv2dGeometry& g, Visit visit) {
  const std::int64_t width = column_width(g);
  for (std::int64_t oy = 0; oy < g.out_height; ++oy)
    for (std::int64_t ox = 0; ox < g.out_width; ++ox)
      for (std::int64_t ky = 0; ky < g.kernel_height; ++ky)
        for (std::int64_t kx = 0; kx < g.kernel_width; ++kx) {
          const std::int64_t iy = oy * g.stride - g.padding + ky * g.dilation;
          const std::int64_t ix = ox * g.stride - g.padding + kx * g.dilation;
          const bool inside = iy >= 0 && iy < g.in_height && ix >= 0 && ix < g.in_width;
          const std::int64_t column = (oy * g.out_width + ox) * width + (ky * g.kernel_width + kx) * g.in_channels;
          visit(column, inside ? (iy * g.in_width + ix) * g.in_channels : -1);
        }
}

template <class T>
void image_to_columns(const Conv2dGeometry& g, const T* image, T* columns) {
  for_each_tap(g, [&](std::int64_t column, std::int64_t pixel) {
    if (pixel < 0)
      std::fill(columns + column, columns + column + g.in_channels, T(0));
    else
      std::copy(image + pixel, image + pixel + g.in_channels, columns + column);
  });
}

template <class T>
void columns_to_image_add(const Conv2dGeometry& g, const T* columns, T* image) {
  for_each_tap(g, [&](std::int64_t column, std::int64_t pixel) {
    if (pixel < 0) return;
    for (std::int64_t c = 0; c < g.in_channels; ++c) image[pixel + c] += columns[column + c];
  });
}

}  // namespace

template <class T>
void conv2d_forward(const Conv2dGeometry& g, const T* x, const T* w, const T* bias, T* y) {
  const std::int64_t pixels = g.out_height * g.out_width, width = column_width(g);
  std::vector<T> columns(is_pointwise(g) ? 0 : std::size_t(pixels * width));
  for (std::int64_t n = 0; n < g.batch; ++n) {
    const T* image = x + n * g.in_height * g.in_width * g.in_channels;
    T* out = y + n * pixels * g.out_channels;
    const T* a = image;
    if (!is_pointwise(g)) {
      image_to_columns(g, image, columns.data());
      a = columns.data();
    }
    gemm<T>(Transpose::No, Transpose::Yes, pixels, g.out_channels, width, T(1), a, width, w, width, T(0), out,
            g.out_channels);
    if (bias != nullptr)
      for (std::int64_t p = 0; p < pixels; ++p)
        for (std::int64_t co = 0; co < g.out_channels; ++co) out[p * g.out_channels + co] += bias[co];
  }
}

template <class T>
void conv2d_backward_input(const Conv2dGeometry& g, const T* dy, const T* w, T* dx) {
  const std::int64_t pixels = g.out_height * g.out_width, width = column_width(g);
  const std::int64_t image_size = g.in_height * g.in_width * g.in_channels;
  std::vector<T> columns(is_pointwise(g) ? 0 : std::size_t(pixels * width));
  for (std::int64_t n = 0; n < g.batch; ++n) {
    T* image_grad = dx + n * image_size;
    const T* out_grad = dy + n * pixels * g.out_channels;
    if (is_pointwise(g)) {
      gemm<T>(Transpose::No, Transpose::No, pixels, width, g.out_channels, T(1), out_grad, g.out_channels, w, width,
              T(0), image_grad, width);
      continue;
    }
    gemm<T>(Transpose::No, Transpose::No, pixels, width, g.out_channels, T(1), out_grad, g.out_channels, w, width, T(0),
            columns.data(), width);
    std::fill(image_grad, image_grad + image_size, T(0));
    columns_to_image_add(g, columns.data(), image_grad);
  }
}

template <class T>
void conv2d_backward_weight(const Conv2dGeometry& g, const T* dy, const T* x, T* dw, T* dbias) {
  const std::int64_t pixels = g.out_height * g.out_width, width = column_width(g);
  std::vector<T> columns(is_pointwise(g) ? 0 : std::size_t(pixels * width));
  for (std::int64_t n = 0; n < g.batch; ++n) {
    const T* image = x + n * g.in_height * g.in_width * g.in_channels;
    const T* out_grad = dy + n * pixels * g.out_channels;
    const T* b = image;
    if (!is_pointwise(g)) {
      image_to_columns(g, image, columns.data());
      b = columns.data();
    }
    gemm<T>(Transpose::Yes, Transpose::No, g.out_channels, width, pixels, T(1), out_grad, g.out_channels, b, width,
            T(1), dw, width);
    if (dbias != nullptr)
      for (std::int64_t p = 0; p < pixels; ++p)
        for (std::int64_t co = 0; co < g.out_channels; ++co) dbias[co] += out_grad[p * g.out_channels + co];
  }
}

#define PANS_INSTANTIATE_CONV2D(T)                                                          \
  template void conv2d_forward<T>(const Conv2dGeometry&, const T*, const T*, const T*, T*); \
  template void conv2d_backward_input<T>(const Conv2dGeometry&, const T*, const T*, T*);    \
  template void conv2d_backward_weight<T>(const Conv2dGeometry&, const T*, const T*, T*, T*);
PANS_INSTANTIATE_CONV2D(float)
PANS_INSTANTIATE_CONV2D(double)
#undef PANS_INSTANTIATE_CONV2D

}  // namespace pans::cpu
