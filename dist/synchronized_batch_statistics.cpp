#include "dist/synchronized_batch_statistics.h"

namespace pans {
namespace {

// A host float64 copy of a {C} float tensor of any device.
std::vector<double> host_doubles(const Tensor& tensor) {
  return tensor.to(Device::cpu()).cast(DType::F64).to_vector<double>();
}

// Writes float64 host values into a tensor of any float dtype and device.
void assign(Tensor& destination, const std::vector<double>& values) {
  const Tensor host = Tensor::from_vector(values, destination.shape());
  destination.copy_from(destination.dtype() == DType::F64 ? host : host.cast(destination.dtype()));
}

}  // namespace

std::vector<WelfordState<double>> merge_rank_moments(const std::vector<double>& gathered, std::int64_t channels,
                                                     int world_size) {
  const std::size_t row = std::size_t(2 * channels + 1);
  PANS_CHECK(gathered.size() == row * std::size_t(world_size), "merge_rank_moments: ", gathered.size(),
             " values are not ", world_size, " rows of 2 x ", channels, " + 1");
  std::vector<WelfordState<double>> merged(std::size_t(channels), WelfordState<double>{0, 0, 0});
  for (int r = 0; r < world_size; ++r) {
    const double* rank_row = gathered.data() + std::size_t(r) * row;
    const double count = rank_row[2 * channels];
    for (std::int64_t c = 0; c < channels; ++c)
      merged[std::size_t(c)] = welford_merge(merged[std::size_t(c)],
                                             WelfordState<double>{count, rank_row[c], rank_row[channels + c] * count});
  }
  return merged;
}

std::int64_t SynchronizedBatchStatistics::merge_statistics(Tensor& mean, Tensor& var, std::int64_t count) {
  const std::int64_t channels = mean.numel();
  std::vector<double> row = host_doubles(mean);
  const std::vector<double> variances = host_doubles(var);
  row.insert(row.end(), variances.begin(), variances.end());
  row.push_back(double(count));

  const int world = communicator_.world_size();
  const Tensor local = Tensor::from_vector(row, {std::int64_t(row.size())}).to(communicator_.device());
  Tensor gathered = Tensor::empty({std::int64_t(row.size()) * world}, DType::F64, communicator_.device());
  communicator_.all_gather(local, gathered);

  const std::vector<WelfordState<double>> merged =
      merge_rank_moments(gathered.to(Device::cpu()).to_vector<double>(), channels, world);
  std::vector<double> merged_mean(merged.size()), merged_var(merged.size());
  for (std::size_t c = 0; c < merged.size(); ++c) {
    merged_mean[c] = merged[c].mean;
    merged_var[c] = merged[c].m2 / merged[c].count;
  }
  assign(mean, merged_mean);
  assign(var, merged_var);
  return std::int64_t(merged.front().count);
}

void SynchronizedBatchStatistics::sum_over_ranks(Tensor& sums) {
  if (sums.device() == communicator_.device()) {
    communicator_.all_reduce(sums, ReduceOp::Sum);
    return;
  }
  Tensor staged = sums.to(communicator_.device());
  communicator_.all_reduce(staged, ReduceOp::Sum);
  sums.copy_from(staged);
}

}  // namespace pans
