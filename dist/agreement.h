// The start-up check of a data-parallel job: before the first step, every rank compares its world
// size and a hash of its configuration (the recipe, the model, the data: whatever must be equal on
// every rank for the job to mean anything) with every other rank's. Ranks started with different
// flags, builds or data would otherwise train silently apart, or deadlock at the first collective
// whose size differs.
#pragma once

#include <cstdint>
#include <string>

#include "dist/communicator.h"

namespace pans {

// A 64-bit FNV-1a hash of the text (a canonical rendering of the configuration).
std::uint64_t configuration_hash(const std::string& text);

// One all_gather; throws pans::Error on every rank, naming the ranks and values that differ, unless
// all agree.
void check_ranks_agree(Communicator& communicator, std::uint64_t configuration_hash);

}  // namespace pans
