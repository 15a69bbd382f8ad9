#include "data/sampler.h"

#include <numeric>
#include <utility>

#include "data/rng_streams.h"
#include "tensor/philox.h"

namespace pans {

DistributedSampler::DistributedSampler(std::int64_t dataset_size, SampleOrder order, std::uint64_t seed, int rank,
                                       int world_size, ShardSize shard_size)
    : dataset_size_(dataset_size),
      order_(order),
      seed_(seed),
      rank_(rank),
      world_size_(world_size),
      shard_size_(shard_size) {
  PANS_CHECK(dataset_size > 0 && world_size > 0 && rank >= 0 && rank < world_size, "DistributedSampler: ", dataset_size,
             " samples, rank ", rank, " of world size ", world_size);
}

std::int64_t DistributedSampler::shard_size() const {
  if (shard_size_ == ShardSize::Equal) return (dataset_size_ + world_size_ - 1) / world_size_;
  return (dataset_size_ - rank_ + world_size_ - 1) / world_size_;
}

std::vector<std::int64_t> DistributedSampler::epoch_indices(std::int64_t epoch) const {
  std::vector<std::int64_t> order(static_cast<std::size_t>(dataset_size_));
  std::iota(order.begin(), order.end(), std::int64_t(0));
  if (order_ == SampleOrder::Shuffled) {
    // Fisher-Yates; a 32-bit draw scaled to [0, i] (the bias, i / 2^32, is far below anything a
    // split size can show).
    const std::uint64_t stream = data_stream(DataStream::Shuffle, epoch, 0);
    for (std::int64_t i = dataset_size_ - 1; i > 0; --i) {
      const std::uint64_t draw = philox_u32(seed_, stream, std::uint64_t(i));
      const std::int64_t j = std::int64_t((draw * std::uint64_t(i + 1)) >> 32);
      std::swap(order[std::size_t(i)], order[std::size_t(j)]);
    }
  }
  const std::int64_t padded = shard_size_ == ShardSize::Equal ? shard_size() * world_size_ : dataset_size_;
  std::vector<std::int64_t> shard;
  shard.reserve(std::size_t(shard_size()));
  for (std::int64_t position = rank_; position < padded; position += world_size_)
    shard.push_back(order[std::size_t(position % dataset_size_)]);
  return shard;
}

}  // namespace pans
