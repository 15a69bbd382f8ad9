// One-warp kernels around each wrapper of kernels/cuda/ptx.h. The fragment loads below are written
// from the PTX ISA's layout tables (see ptx.h), so on a GPU these tests check the hardware against
// the documented layouts, and on the emulator they check the emulator against the same documents.
#include "kernels/cuda/launch.h"
#include "kernels/cuda/ptx.h"
#include "kernels/cuda/tf32.h"
#include "tests/cuda_tensor_core_kernels.h"

namespace pans::test {
namespace {

__device__ std::uint32_t f32_bits(float value) { return __float_as_uint(value); }

__device__ std::uint32_t pack(std::uint16_t low, std::uint16_t high) {
  return std::uint32_t(low) | (std::uint32_t(high) << 16);
}

__device__ void store_accumulators(float* d, const float (&acc)[4], int g, int t) {
  d[g * 8 + 2 * t] = acc[0];
  d[g * 8 + 2 * t + 1] = acc[1];
  d[(g + 8) * 8 + 2 * t] = acc[2];
  d[(g + 8) * 8 + 2 * t + 1] = acc[3];
}

__device__ void load_accumulators(const float* c, float (&acc)[4], int g, int t) {
  acc[0] = c[g * 8 + 2 * t];
  acc[1] = c[g * 8 + 2 * t + 1];
  acc[2] = c[(g + 8) * 8 + 2 * t];
  acc[3] = c[(g + 8) * 8 + 2 * t + 1];
}

__global__ void mma_tf32_tile_kernel(const float* a, const float* b, const float* c, float* d) {
  const int lane = int(threadIdx.x), g = lane >> 2, t = lane & 3;
  const std::uint32_t fa[4] = {f32_bits(a[g * 8 + t]), f32_bits(a[(g + 8) * 8 + t]), f32_bits(a[g * 8 + t + 4]),
                               f32_bits(a[(g + 8) * 8 + t + 4])};
  const std::uint32_t fb[2] = {f32_bits(b[t * 8 + g]), f32_bits(b[(t + 4) * 8 + g])};
  float fc[4], fd[4];
  load_accumulators(c, fc, g, t);
  cuda::ptx::mma_m16n8k8_tf32(fd, fa, fb, fc);
  store_accumulators(d, fd, g, t);
}

__global__ void mma_bf16_tile_kernel(const std::uint16_t* a, const std::uint16_t* b, const float* c, float* d) {
  const int lane = int(threadIdx.x), g = lane >> 2, t = lane & 3;
  const std::uint32_t fa[4] = {pack(a[g * 16 + 2 * t], a[g * 16 + 2 * t + 1]),
                               pack(a[(g + 8) * 16 + 2 * t], a[(g + 8) * 16 + 2 * t + 1]),
                               pack(a[g * 16 + 2 * t + 8], a[g * 16 + 2 * t + 9]),
                               pack(a[(g + 8) * 16 + 2 * t + 8], a[(g + 8) * 16 + 2 * t + 9])};
  const std::uint32_t fb[2] = {pack(b[(2 * t) * 8 + g], b[(2 * t + 1) * 8 + g]),
                               pack(b[(2 * t + 8) * 8 + g], b[(2 * t + 9) * 8 + g])};
  float fc[4], fd[4];
  load_accumulators(c, fc, g, t);
  cuda::ptx::mma_m16n8k16_bf16(fd, fa, fb, fc);
  store_accumulators(d, fd, g, t);
}

template <int Count, bool Transpose>
__global__ void ldmatrix_kernel(const std::uint16_t* matrices, std::uint32_t* out) {
  std::uint16_t* tile = pans::cuda::dynamic_shared<std::uint16_t>();  // 4 matrices x 8 rows x 8 columns
  const int lane = int(threadIdx.x);
  for (int i = lane; i < 256; i += 32) tile[i] = matrices[i];
  __syncthreads();
  std::uint32_t registers[Count];
  const int supplier_matrix = (lane / 8) % Count, supplier_row = lane % 8;
  cuda::ptx::ldmatrix<Count, Transpose>(registers, tile + supplier_matrix * 64 + supplier_row * 8);
  for (int j = 0; j < Count; ++j) out[lane * 4 + j] = registers[j];
}

__global__ void cvt_tf32_kernel(const float* in, std::uint32_t* out, int count) {
  const int i = int(threadIdx.x);
  if (i < count) out[i] = cuda::ptx::cvt_rna_tf32(in[i]);
}

__global__ void tf32_rounded_bits_kernel(const float* in, std::uint32_t* out, int count) {
  const int i = int(threadIdx.x);
  if (i < count) out[i] = cuda::tf32_rounded_bits(in[i]);
}

__global__ void cp_async_kernel(const unsigned char* source, const int* sizes, unsigned char* out) {
  unsigned char* staging = pans::cuda::dynamic_shared<unsigned char>();
  const int lane = int(threadIdx.x);
  cuda::ptx::cp_async_16(staging + 16 * lane, source + 16 * lane, sizes[lane]);
  cuda::ptx::cp_async_commit_group();
  cuda::ptx::cp_async_wait_group<0>();
  for (int i = 0; i < 16; ++i) out[16 * lane + i] = staging[16 * lane + i];
}

__global__ void cp_async_read_before_wait_kernel(const float* source, float* out) {
  float* staging = pans::cuda::dynamic_shared<float>();
  const int lane = int(threadIdx.x);
  cuda::ptx::cp_async_16(staging + 4 * lane, source + 4 * lane, 16);
  cuda::ptx::cp_async_commit_group();
  out[lane] = staging[4 * lane];  // too early: the group has not been waited for
  cuda::ptx::cp_async_wait_group<0>();
}

void finish() { PANS_CUDA_CHECK(cudaDeviceSynchronize()); }

}  // namespace

void mma_tf32_tile(const float* a, const float* b, const float* c, float* d) {
  cuda::launch("mma_tf32_tile_kernel", mma_tf32_tile_kernel, 1, 32, 0, cudaStreamLegacy, a, b, c, d);
  finish();
}

void mma_bf16_tile(const std::uint16_t* a, const std::uint16_t* b, const float* c, float* d) {
  cuda::launch("mma_bf16_tile_kernel", mma_bf16_tile_kernel, 1, 32, 0, cudaStreamLegacy, a, b, c, d);
  finish();
}

void ldmatrix_probe(const std::uint16_t* matrices, int count, bool transpose, std::uint32_t* out) {
  const std::size_t shared = 256 * sizeof(std::uint16_t);
  if (count == 1 && !transpose)
    cuda::launch("ldmatrix_kernel<1,false>", ldmatrix_kernel<1, false>, 1, 32, shared, cudaStreamLegacy, matrices, out);
  if (count == 1 && transpose)
    cuda::launch("ldmatrix_kernel<1,true>", ldmatrix_kernel<1, true>, 1, 32, shared, cudaStreamLegacy, matrices, out);
  if (count == 2 && !transpose)
    cuda::launch("ldmatrix_kernel<2,false>", ldmatrix_kernel<2, false>, 1, 32, shared, cudaStreamLegacy, matrices, out);
  if (count == 2 && transpose)
    cuda::launch("ldmatrix_kernel<2,true>", ldmatrix_kernel<2, true>, 1, 32, shared, cudaStreamLegacy, matrices, out);
  if (count == 4 && !transpose)
    cuda::launch("ldmatrix_kernel<4,false>", ldmatrix_kernel<4, false>, 1, 32, shared, cudaStreamLegacy, matrices, out);
  if (count == 4 && transpose)
    cuda::launch("ldmatrix_kernel<4,true>", ldmatrix_kernel<4, true>, 1, 32, shared, cudaStreamLegacy, matrices, out);
  finish();
}

void cvt_tf32_probe(const float* in, std::uint32_t* out, int count) {
  cuda::launch("cvt_tf32_kernel", cvt_tf32_kernel, 1, 64, 0, cudaStreamLegacy, in, out, count);
  finish();
}

void tf32_rounded_bits_probe(const float* in, std::uint32_t* out, int count) {
  cuda::launch("tf32_rounded_bits_kernel", tf32_rounded_bits_kernel, 1, 64, 0, cudaStreamLegacy, in, out, count);
  finish();
}

void cp_async_probe(const unsigned char* source, const int* sizes, unsigned char* out) {
  cuda::launch("cp_async_kernel", cp_async_kernel, 1, 32, 512, cudaStreamLegacy, source, sizes, out);
  finish();
}

void cp_async_read_before_wait(const float* source, float* out) {
  cuda::launch("cp_async_read_before_wait_kernel", cp_async_read_before_wait_kernel, 1, 32, 512, cudaStreamLegacy,
               source, out);
  finish();
}

}  // namespace pans::test
