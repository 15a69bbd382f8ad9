#include "kernels/rank_moments.h"

#include "kernels/cpu/rank_moments.h"
#include "kernels/cuda/rank_moments.h"
#include "kernels/cuda_dispatch.h"
#include "kernels/op_check.h"

namespace pans {
namespace {

// mean and var: {C} of one float dtype; the float64 buffers: contiguous, on the same device.
void check_statistics_and_buffers(const OpCheck& check, const Tensor& mean, const Tensor& var,
                                  std::initializer_list<std::pair<const char*, DType>> float64_buffers) {
  check.rank("mean", mean, 1);
  check.shape("var", var, mean.shape());
  check.same_device_float_contiguous(float64_buffers);
}

}  // namespace

void pack_rank_moments(const Tensor& mean, const Tensor& var, std::int64_t count, Tensor& row) {
  const OpCheck check("pack_rank_moments", {{"mean", &mean}, {"var", &var}, {"row", &row}});
  check_statistics_and_buffers(check, mean, var, {{"row", DType::F64}});
  const std::int64_t channels = mean.numel();
  check.shape("row", row, {rank_moments_row_length(channels)});
  check.require(count >= 1, "count must be >= 1, got ", count);
  if (ran_on_cuda(check, mean, [&] {
        cuda::pack_rank_moments(channels, mean.data<float>(), var.data<float>(), double(count), row.data<double>());
      }))
    return;
  dispatch_floating(check, mean.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::pack_rank_moments<T>(channels, mean.data<T>(), var.data<T>(), double(count), row.data<double>());
  });
}

void merge_rank_moments(const Tensor& gathered, Tensor& mean, Tensor& var, Tensor& total_count) {
  const OpCheck check("merge_rank_moments",
                      {{"gathered", &gathered}, {"mean", &mean}, {"var", &var}, {"total_count", &total_count}});
  check_statistics_and_buffers(check, mean, var, {{"gathered", DType::F64}, {"total_count", DType::F64}});
  const std::int64_t channels = mean.numel();
  const std::int64_t row = rank_moments_row_length(channels);
  check.rank("gathered", gathered, 1);
  check.require(gathered.numel() >= row && gathered.numel() % row == 0, "gathered must hold whole rows of 2 x ",
                channels, " + 1 values");
  check.shape("total_count", total_count, {1});
  const int ranks = int(gathered.numel() / row);
  if (ran_on_cuda(check, mean, [&] {
        cuda::merge_rank_moments(channels, ranks, gathered.data<double>(), mean.data<float>(), var.data<float>(),
                                 total_count.data<double>());
      }))
    return;
  dispatch_floating(check, mean.dtype(), [&](auto zero) {
    using T = decltype(zero);
    cpu::merge_rank_moments<T>(channels, ranks, gathered.data<double>(), mean.data<T>(), var.data<T>(),
                               total_count.data<double>());
  });
}

}  // namespace pans
