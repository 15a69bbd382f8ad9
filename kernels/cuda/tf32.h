// float32 rounded to tf32 for the tensor cores' tf32 operands, without cvt.rna.tf32.f32.
//
// sm_90 has no instruction for that cvt: nvcc expands it into a finite test, an add of half a tf32
// ulp and a mask of the low 13 bits. mma.sync ignores those 13 bits of a tf32 operand (ptx.h), so
// the mask is wasted: tf32_rounded_bits() leaves them as they fall and costs two instructions. The
// upper 19 bits are cvt.rna's (nearest, ties away from zero: the add carries into the tf32 mantissa
// exactly when the dropped part is at least half an ulp); infinities and NaNs keep their bits, as in
// nvcc's expansion.
#pragma once

#include <cfloat>
#include <cmath>
#include <cstdint>

#include "kernels/cuda/launch.h"  // __float_as_uint in the emulator build too

namespace pans::cuda {

__device__ __forceinline__ std::uint32_t tf32_rounded_bits(float value) {
  const std::uint32_t bits = __float_as_uint(value);
  return fabsf(value) <= FLT_MAX ? bits + 0x1000u : bits;
}

}  // namespace pans::cuda
