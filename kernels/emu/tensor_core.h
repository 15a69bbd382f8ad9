// The emulator's tensor-core and matrix-load instructions, built on warp_exchange from the per-lane
// fragment layouts documented in the PTX ISA (docs/simt_emulator.md#tensor-core-instructions).
// Called only through the wrappers of kernels/cuda/ptx.h. Products of tf32 or bf16 operands are
// exact in double, and the sums are accumulated in double and rounded once, so results do not
// depend on an order the hardware leaves unspecified; the parity tests' tolerances cover the
// hardware's own rounding.
#pragma once

#include <cstdint>

namespace pans::emu {

// mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32: d = a * b + c for the warp. The low 13 bits
// of each tf32 operand are ignored, as the tensor core ignores them.
void mma_m16n8k8_tf32(float d[4], const std::uint32_t a[4], const std::uint32_t b[2], const float c[4],
                      const char* file, int line);
// mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32.
void mma_m16n8k16_bf16(float d[4], const std::uint32_t a[4], const std::uint32_t b[2], const float c[4],
                       const char* file, int line);
// ldmatrix.sync.aligned.m8n8.x{count}{.trans}.shared.b16: lane 8j + r gives the address of row r of
// matrix j (16 bytes, 16-byte aligned); register j of lane l receives two 16-bit elements of matrix j.
void ldmatrix(std::uint32_t* registers, int count, bool transpose, const void* row_address, const char* file,
              int line);
// cvt.rna.tf32.f32: round to the 10-bit mantissa of tf32, ties away from zero; the result keeps the
// f32 layout with the low 13 bits zero.
std::uint32_t cvt_rna_tf32(float value);

}  // namespace pans::emu
