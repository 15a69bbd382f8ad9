// Every inline PTX instruction pans uses, each behind a small named wrapper with three bodies:
// the instruction itself in nvcc's device pass, the emulator's implementation (kernels/emu) in the
// emulator build, and nothing in nvcc's host pass (device functions never run there). Kernels call
// these wrappers and never write asm themselves.
//
// Fragment layouts (PTX ISA "Warp-level matrix fragments"; g = lane/4, t = lane%4):
//   mma m16n8k8 tf32:  a0 = A[g][t], a1 = A[g+8][t], a2 = A[g][t+4], a3 = A[g+8][t+4];
//                      b0 = B[t][g], b1 = B[t+4][g]
//   mma m16n8k16 bf16: a0 = A[g][2t,2t+1], a1 = A[g+8][2t,2t+1], a2 = A[g][2t+8,2t+9],
//                      a3 = A[g+8][2t+8,2t+9]; b0 = B[2t,2t+1][g], b1 = B[2t+8,2t+9][g]
//                      (two bf16 per register, the lower index in bits 0-15)
//   accumulators:      c0 = C[g][2t], c1 = C[g][2t+1], c2 = C[g+8][2t], c3 = C[g+8][2t+1]
//   ldmatrix x{1,2,4}: lane 8j+r gives row r of matrix j; register j of lane l holds matrix j's
//                      (l/4, 2(l%4)) and (l/4, 2(l%4)+1), or with .trans (2(l%4), l/4) and (2(l%4)+1, l/4)
#pragma once

#include <cstdint>

#ifdef PANS_SIMT_EMU
#include "kernels/emu/scheduler.h"
#include "kernels/emu/tensor_core.h"
#define PANS_PTX_SITE , __builtin_FILE(), __builtin_LINE()
#endif

namespace pans::cuda::ptx {

// D = A * B + C, tf32 inputs (f32 bit patterns, low 13 bits ignored), f32 accumulators.
__device__ __forceinline__ void mma_m16n8k8_tf32(float d[4], const std::uint32_t a[4], const std::uint32_t b[2],
                                                 const float c[4]) {
#if defined(__CUDA_ARCH__)
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%10,%11,%12,%13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]),
        "f"(c[3]));
#elif defined(PANS_SIMT_EMU)
  emu::mma_m16n8k8_tf32(d, a, b, c PANS_PTX_SITE);
#endif
}

// D = A * B + C, bf16 inputs, f32 accumulators.
__device__ __forceinline__ void mma_m16n8k16_bf16(float d[4], const std::uint32_t a[4], const std::uint32_t b[2],
                                                  const float c[4]) {
#if defined(__CUDA_ARCH__)
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%10,%11,%12,%13};\n"
      : "=f"(d[0]), "=f"(d[1]), "=f"(d[2]), "=f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]), "f"(c[0]), "f"(c[1]), "f"(c[2]),
        "f"(c[3]));
#elif defined(PANS_SIMT_EMU)
  emu::mma_m16n8k16_bf16(d, a, b, c PANS_PTX_SITE);
#endif
}

// Shared-memory address for the .shared state space operands.
__device__ __forceinline__ std::uint32_t shared_address(const void* pointer) {
#if defined(__CUDA_ARCH__)
  return static_cast<std::uint32_t>(__cvta_generic_to_shared(pointer));
#else
  (void)pointer;
  return 0;
#endif
}

// ldmatrix .x1 / .x2 / .x4, optionally .trans: `row` is this lane's row address in shared memory.
template <int Count, bool Transpose>
__device__ __forceinline__ void ldmatrix(std::uint32_t (&registers)[Count], const void* row) {
  static_assert(Count == 1 || Count == 2 || Count == 4, "ldmatrix loads 1, 2 or 4 matrices");
#if defined(__CUDA_ARCH__)
  const std::uint32_t address = shared_address(row);
  if constexpr (Count == 1 && !Transpose)
    asm volatile("ldmatrix.sync.aligned.m8n8.x1.shared.b16 {%0}, [%1];\n" : "=r"(registers[0]) : "r"(address));
  if constexpr (Count == 1 && Transpose)
    asm volatile("ldmatrix.sync.aligned.m8n8.x1.trans.shared.b16 {%0}, [%1];\n" : "=r"(registers[0]) : "r"(address));
  if constexpr (Count == 2 && !Transpose)
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.shared.b16 {%0,%1}, [%2];\n"
                 : "=r"(registers[0]), "=r"(registers[1])
                 : "r"(address));
  if constexpr (Count == 2 && Transpose)
    asm volatile("ldmatrix.sync.aligned.m8n8.x2.trans.shared.b16 {%0,%1}, [%2];\n"
                 : "=r"(registers[0]), "=r"(registers[1])
                 : "r"(address));
  if constexpr (Count == 4 && !Transpose)
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(registers[0]), "=r"(registers[1]), "=r"(registers[2]), "=r"(registers[3])
                 : "r"(address));
  if constexpr (Count == 4 && Transpose)
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(registers[0]), "=r"(registers[1]), "=r"(registers[2]), "=r"(registers[3])
                 : "r"(address));
#elif defined(PANS_SIMT_EMU)
  emu::ldmatrix(registers, Count, Transpose, row PANS_PTX_SITE);
#else
  (void)registers;
  (void)row;
#endif
}

// cp.async.cg of 16 bytes from global to shared memory; bytes past `source_bytes` (0..16) are zero
// (the zero-fill that pads convolution borders).
__device__ __forceinline__ void cp_async_16(void* shared_destination, const void* global_source, int source_bytes) {
#if defined(__CUDA_ARCH__)
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(shared_address(shared_destination)),
               "l"(global_source), "r"(source_bytes));
#elif defined(PANS_SIMT_EMU)
  emu::cp_async_issue(shared_destination, global_source, 16, source_bytes);
#else
  (void)shared_destination;
  (void)global_source;
  (void)source_bytes;
#endif
}

__device__ __forceinline__ void cp_async_commit_group() {
#if defined(__CUDA_ARCH__)
  asm volatile("cp.async.commit_group;\n" ::);
#elif defined(PANS_SIMT_EMU)
  emu::cp_async_commit_group();
#endif
}

// Waits until at most `Pending` of this thread's committed groups are still in flight.
template <int Pending>
__device__ __forceinline__ void cp_async_wait_group() {
#if defined(__CUDA_ARCH__)
  asm volatile("cp.async.wait_group %0;\n" ::"n"(Pending));
#elif defined(PANS_SIMT_EMU)
  emu::cp_async_wait_group(Pending);
#endif
}

// cvt.rna.tf32.f32: f32 rounded to tf32 (ties away from zero), as the bits mma's tf32 operands take.
__device__ __forceinline__ std::uint32_t cvt_rna_tf32(float value) {
#if defined(__CUDA_ARCH__)
  std::uint32_t result;
  asm("cvt.rna.tf32.f32 %0, %1;\n" : "=r"(result) : "f"(value));
  return result;
#elif defined(PANS_SIMT_EMU)
  return emu::cvt_rna_tf32(value);
#else
  (void)value;
  return 0;
#endif
}

}  // namespace pans::cuda::ptx
