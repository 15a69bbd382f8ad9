// Marks functions that both the CPU oracle and CUDA kernels call, so one definition serves both.
#pragma once

#if defined(__CUDACC__)
#define PANS_HOST_DEVICE __host__ __device__
#else
#define PANS_HOST_DEVICE
#endif
