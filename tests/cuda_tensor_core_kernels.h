// Launchers of the one-warp tests of kernels/cuda/ptx.h (tests/cuda_tensor_core_kernels.cu).
// Pointers are device pointers; each launcher returns after its kernel finished.
#pragma once

#include <cstdint>

namespace pans::test {

// d (16x8) = a (16x8, f32 bit patterns fed as tf32) * b (8x8) + c (16x8), all row-major, by one mma.
void mma_tf32_tile(const float* a, const float* b, const float* c, float* d);
// d (16x8) = a (16x16 bf16) * b (16x8 bf16) + c, row-major, by one mma.
void mma_bf16_tile(const std::uint16_t* a, const std::uint16_t* b, const float* c, float* d);
// Copies four 8x8 matrices of 16-bit values (row-major, 256 elements) into shared memory and loads
// them with ldmatrix .x{count}{.trans}; out[lane * 4 + j] = register j of lane.
void ldmatrix_probe(const std::uint16_t* matrices, int count, bool transpose, std::uint32_t* out);
// out[i] = bits of cvt.rna.tf32.f32(in[i]) for i < count (one thread per value).
void cvt_tf32_probe(const float* in, std::uint32_t* out, int count);
// cuda::tf32_rounded_bits of in[i] (kernels/cuda/tf32.h), count <= 64.
void tf32_rounded_bits_probe(const float* in, std::uint32_t* out, int count);
// One warp: lane l cp.async's 16 bytes from source + 16 l with source size sizes[l] into shared
// memory, waits, and writes the 16 bytes to out + 16 l.
void cp_async_probe(const unsigned char* source, const int* sizes, unsigned char* out);
// Reads a cp.async destination before waiting for it (deliberately wrong): out = what it read.
void cp_async_read_before_wait(const float* source, float* out);

}  // namespace pans::test
