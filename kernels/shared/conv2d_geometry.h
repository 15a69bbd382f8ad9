// The geometry of one convolution (kernels/conv2d.h defines the op), shared by the CPU oracle, the
// CUDA launchers and cuDNN: the input {batch, in_height, in_width, in_channels}, the weight
// {out_channels, kernel_height, kernel_width, in_channels}, the output {batch, out_height,
// out_width, out_channels} and the window's stride, padding and dilation (both axes alike).
//
// Host code holds the extents as std::int64_t (Conv2dGeometry). The CUDA kernels index with int,
// which costs fewer registers, and take the BasicConv2dGeometry<int> copy their launcher makes
// after checking that every extent fits.
#pragma once

#include <cstdint>

namespace pans {

template <class Extent>
struct BasicConv2dGeometry {
  Extent batch, in_height, in_width, in_channels;
  Extent out_channels, kernel_height, kernel_width;
  Extent out_height, out_width;
  int stride, padding, dilation;
};

using Conv2dGeometry = BasicConv2dGeometry<std::int64_t>;

}  // namespace pans
