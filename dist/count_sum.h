// Exact sums of integer counts (confusion matrices, histogram bins) over the ranks. The
// communicators reduce float32 and float64 only, so the counts travel as float64: every count is a
// non-negative integer, and float64 holds every integer up to 2^53 exactly, so as long as each
// element's sum over the ranks stays below 2^53 every partial sum in any reduction order is such an
// integer and is added exactly. A sum that reached 2^53 would come back at or above it (adding
// non-negative numbers never rounds below 2^53 once there), which is what the check looks for.
#pragma once

#include <cstdint>
#include <vector>

#include "dist/communicator.h"

namespace pans {

// counts (each in [0, 2^53)) <- their element-wise sums over the ranks, on every rank. `what` names
// the counts in an error.
void sum_counts_over_ranks(std::vector<std::int64_t>& counts, Communicator& communicator, const char* what);

}  // namespace pans
