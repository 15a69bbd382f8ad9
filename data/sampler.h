// Which samples each rank reads in each epoch, the way PyTorch's DistributedSampler decides it:
// one permutation per epoch drawn from a seed every rank shares (so ranks agree without talking),
// then rank r takes positions r, r + W, r + 2W, ... of it. With ShardSize::Equal the permutation is
// first extended by its own head to a multiple of W, so every rank has the same number of samples
// (training: every rank must run the same number of steps); with ShardSize::Uneven nothing is
// repeated and the shards cover the split exactly once (evaluation).
#pragma once

#include <cstdint>
#include <vector>

namespace pans {

enum class SampleOrder { Shuffled, Sequential };
enum class ShardSize { Equal, Uneven };

class DistributedSampler {
 public:
  DistributedSampler(std::int64_t dataset_size, SampleOrder order, std::uint64_t seed, int rank = 0, int world_size = 1,
                     ShardSize shard_size = ShardSize::Equal);

  std::int64_t dataset_size() const { return dataset_size_; }
  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  // The number of samples this rank reads per epoch.
  std::int64_t shard_size() const;
  // This rank's dataset indices for `epoch`, in reading order.
  std::vector<std::int64_t> epoch_indices(std::int64_t epoch) const;

 private:
  std::int64_t dataset_size_;
  SampleOrder order_;
  std::uint64_t seed_;
  int rank_, world_size_;
  ShardSize shard_size_;
};

}  // namespace pans
