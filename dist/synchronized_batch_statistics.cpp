#include "dist/synchronized_batch_statistics.h"

#include "kernels/rank_moments.h"

namespace pans {
namespace {

// `tensor` itself when it is on `device`, else a copy there.
Tensor on_device(const Tensor& tensor, Device device) { return tensor.device() == device ? tensor : tensor.to(device); }

}  // namespace

std::int64_t SynchronizedBatchStatistics::merge_statistics(Tensor& mean, Tensor& var, std::int64_t count) {
  const Device device = communicator_.device();
  Tensor staged_mean = on_device(mean, device), staged_var = on_device(var, device);
  const std::int64_t row_length = rank_moments_row_length(mean.numel());
  Tensor row = Tensor::empty({row_length}, DType::F64, device);
  pack_rank_moments(staged_mean, staged_var, count, row);
  Tensor gathered = Tensor::empty({row_length * communicator_.world_size()}, DType::F64, device);
  communicator_.all_gather(row, gathered);
  Tensor total_count = Tensor::empty({1}, DType::F64, device);
  merge_rank_moments(gathered, staged_mean, staged_var, total_count);
  if (mean.device() != device) {
    mean.copy_from(staged_mean);
    var.copy_from(staged_var);
  }
  return std::int64_t(total_count.to(Device::cpu()).data<double>()[0]);
}

void SynchronizedBatchStatistics::sum_over_ranks(Tensor& sums) {
  Tensor staged = on_device(sums, communicator_.device());
  communicator_.all_reduce(staged, ReduceOp::Sum);
  if (sums.device() != communicator_.device()) sums.copy_from(staged);
}

}  // namespace pans
