// Leaky ReLU and its inversion from the output, shared by the iABN and residual CPU oracles and,
// through PANS_HOST_DEVICE, by their CUDA kernels.
//
// Backward from the output alone needs sign(z) = sign(y), so the slope must be positive; the
// callers check it. The identity is the slope-1 case, which lets one code path serve both
// activations of InPlace-ABN.
#pragma once

#include "tensor/host_device.h"

namespace pans {

template <class T>
PANS_HOST_DEVICE inline T leaky_relu(T y, T slope) {
  return y >= T(0) ? y : slope * y;
}

// The input y that produced the output z.
template <class T>
PANS_HOST_DEVICE inline T leaky_relu_input_from_output(T z, T slope) {
  return z >= T(0) ? z : z / slope;
}

// dL/dy from dL/dz and the output z.
template <class T>
PANS_HOST_DEVICE inline T leaky_relu_gradient_from_output(T z, T dz, T slope) {
  return z >= T(0) ? dz : slope * dz;
}

}  // namespace pans
