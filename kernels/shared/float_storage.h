// How kernels read and write the activation storage types: float32, or bfloat16 (tensor/dtype.h)
// for the mixed-precision path. Values are always loaded into float registers, computed on in
// float (or wider), and rounded once, to nearest even, when stored. Kernels templated on the
// storage type T go through this pair only, so the float instantiation compiles to the plain
// loads and stores it had before (bit-identical results) and the bf16 one adds a 16-bit shift on
// load and the rounding on store.
#pragma once

#include "tensor/dtype.h"
#include "tensor/host_device.h"

namespace pans {

PANS_HOST_DEVICE inline float load_as_float(const float* at) { return *at; }
PANS_HOST_DEVICE inline float load_as_float(const bf16* at) { return bf16_to_float(*at); }

PANS_HOST_DEVICE inline void store_from_float(float* at, float value) { *at = value; }
PANS_HOST_DEVICE inline void store_from_float(bf16* at, float value) { *at = float_to_bf16(value); }

}  // namespace pans
