#include "dist/agreement.h"

#include <cstring>
#include <iomanip>
#include <sstream>
#include <vector>

namespace pans {
namespace {

// What each rank contributes, sent as bytes.
struct RankRecord {
  std::uint64_t world_size, rank, configuration_hash;
};

std::string hex(std::uint64_t value) {
  std::ostringstream out;
  out << "0x" << std::hex << std::setw(16) << std::setfill('0') << value;
  return out.str();
}

}  // namespace

std::uint64_t configuration_hash(const std::string& text) {
  std::uint64_t hash = 0xcbf29ce484222325ull;
  for (const unsigned char byte : text) {
    hash ^= byte;
    hash *= 0x100000001b3ull;
  }
  return hash;
}

void check_ranks_agree(Communicator& communicator, std::uint64_t configuration_hash) {
  const int world = communicator.world_size();
  const RankRecord mine{std::uint64_t(world), std::uint64_t(communicator.rank()), configuration_hash};
  std::vector<std::uint8_t> bytes(sizeof mine);
  std::memcpy(bytes.data(), &mine, sizeof mine);
  const Tensor local = Tensor::from_vector(bytes, {std::int64_t(sizeof mine)}).to(communicator.device());
  Tensor gathered = Tensor::empty({std::int64_t(sizeof mine) * world}, DType::U8, communicator.device());
  communicator.all_gather(local, gathered);
  const std::vector<std::uint8_t> all = gathered.to(Device::cpu()).to_vector<std::uint8_t>();

  std::vector<RankRecord> records(static_cast<std::size_t>(world));
  std::memcpy(records.data(), all.data(), all.size());
  for (int r = 0; r < world; ++r) {
    const RankRecord& other = records[std::size_t(r)];
    PANS_CHECK(other.world_size == std::uint64_t(world) && other.rank == std::uint64_t(r), "start-up check: rank ", r,
               " reports itself as rank ", other.rank, " of ", other.world_size, ", but ", communicator.describe(),
               " counts ", world, " ranks: the launcher started the ranks inconsistently");
    PANS_CHECK(other.configuration_hash == records[0].configuration_hash, "start-up check: rank ", r,
               " has configuration hash ", hex(other.configuration_hash), " but rank 0 has ",
               hex(records[0].configuration_hash),
               ": every rank must run the same build with the same flags and data (seen from ", communicator.describe(),
               ")");
  }
}

}  // namespace pans
