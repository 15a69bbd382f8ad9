// The Philox streams of the data pipeline. A stream number carries a domain tag in its top byte, so
// augmentation, shuffling and scene generation never draw the same numbers as each other, nor as
// the model's initialisation (which uses small stream numbers with the same seed).
#pragma once

#include <cstdint>

#include "tensor/error.h"

namespace pans {

enum class DataStream : std::uint64_t { Augment = 0xA1, Shuffle = 0xA2, Scene = 0xA3 };

// Tag in bits 56..63, `high` in bits 32..55, `low` in bits 0..31.
inline std::uint64_t data_stream(DataStream domain, std::int64_t high, std::int64_t low) {
  PANS_CHECK(high >= 0 && high < (std::int64_t(1) << 24) && low >= 0 && low < (std::int64_t(1) << 32), "data_stream: (",
             high, ", ", low, ") does not fit the stream layout");
  return std::uint64_t(domain) << 56 | std::uint64_t(high) << 32 | std::uint64_t(low);
}

inline std::uint64_t augment_stream(std::int64_t epoch, std::int64_t sample_index) {
  return data_stream(DataStream::Augment, epoch, sample_index);
}

}  // namespace pans
