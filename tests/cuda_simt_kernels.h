// Launchers of the SIMT self-test kernels (tests/cuda_simt_kernels.cu). Pointers are device
// pointers; every launcher returns after the kernel has finished.
#pragma once

#include <cstdint>

namespace pans::test {

enum class ShuffleKind { Index, Up, Down, Xor };
// One warp: lane l holds 100 + l; out[l] = the chosen shuffle of it with (argument, width).
void shuffle_probe(ShuffleKind kind, int argument, int width, int* out);
// One warp: predicate[l] per lane; out = {ballot, any, all}.
void vote_probe(const int* predicate, unsigned* out);
// One warp: lane l writes shared[l] = l, then (after __syncwarp) reads shared[31 - l].
void syncwarp_probe(int* out);
// `threads` threads: t writes dynamic shared[t] = t, then reads shared[(t + 1) % threads]. With
// `with_barrier` false the __syncthreads between is missing: a deliberately broken kernel.
void neighbour_exchange(int threads, bool with_barrier, int* out);
// A block of `threads` reverses `values` through dynamic shared memory.
void reverse_through_dynamic_shared(int threads, const float* values, float* out);
// `blocks` x `threads`: every thread adds 1 to *sum, max-es its global index into *maximum and
// increments *counter by a CAS loop.
void atomics_probe(int blocks, int threads, float* sum, int* maximum, unsigned* counter);
// Launches with a given configuration (for launch-error tests); the kernel writes nothing.
void launch_empty(unsigned grid, unsigned block, std::size_t dynamic_shared_bytes);
// Threads 0..threads-1 of one block call __syncthreads from two different lines (odd/even).
void divergent_barrier(int threads);
// Writes element `index` of dynamic shared memory of `bytes` bytes (out of bounds when index*4 >= bytes).
void write_dynamic_shared(std::size_t bytes, int index);
// Writes values[index] (out of bounds when index is past the allocation).
void write_element(float* values, int index);

}  // namespace pans::test
