// The CUDA built-in variables of the emulated thread that is running. The scheduler sets them
// each time it resumes an emulated thread; kernels read them exactly as under nvcc.
#pragma once

#include <vector_types.h>

inline uint3 threadIdx;
inline uint3 blockIdx;
inline dim3 blockDim;
inline dim3 gridDim;
