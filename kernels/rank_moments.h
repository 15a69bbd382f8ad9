// The statistics exchange of synchronized InPlace-ABN (dist/synchronized_batch_statistics.h), as
// ops on the statistics' own device, so that a GPU's statistics never visit the host.
//
// Every rank packs its per-channel (mean, biased variance) of its own `count` values per channel
// into one float64 row, the rows of all ranks are all-gathered in rank order, and every rank merges
// them with Chan's formula (kernels/shared/welford.h) in rank order, in float64: the ranks compute
// the same merge from the same bytes, so they hold the same statistics bit for bit.
//
// Row layout, R = 2C + 1 float64 values: [mean_0 .. mean_{C-1}, var_0 .. var_{C-1}, count].
// Why the moments rather than the power sums (sum x, sum x^2): the variance from power sums cancels
// catastrophically when |mean| >> std, and rows carry their own count, so ranks may hold batches of
// different sizes. float64 counts are exact up to 2^53.
//
// mean and var are {C}: float32 or float64 on the cpu, float32 on CUDA. The row, the gathered rows
// and total_count are float64 on the same device (the only float64 CUDA tensors pans has: plain
// buffers for the communicator, never an op's activations).
#pragma once

#include <cstdint>

#include "kernels/shared/rank_moments.h"
#include "tensor/tensor.h"

namespace pans {

// row {2C + 1} float64 (=) <- [mean, var, count]. count >= 1.
void pack_rank_moments(const Tensor& mean, const Tensor& var, std::int64_t count, Tensor& row);

// gathered {W * (2C + 1)} float64: W rows in rank order (every rank's count >= 1). mean, var {C}
// (=) <- the mean and biased variance of the union of the ranks' values; total_count {1} float64
// (=) <- the sum of the counts.
void merge_rank_moments(const Tensor& gathered, Tensor& mean, Tensor& var, Tensor& total_count);

}  // namespace pans
