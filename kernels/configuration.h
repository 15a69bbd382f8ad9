// The kernels' share of an app's Implementations (config/implementations.h), process-wide: which
// family runs CUDA convolutions and whether it logs its choices, cuDNN's algorithm search and
// workspace limit, the synchronising launch check, and the threads of the CPU kernels. An app calls
// configure_kernels once at start, before any op runs; a process that never calls it runs the
// defaults (pans' kernels, no checks, OpenMP's default threads: one per core).
#pragma once

#include "config/implementations.h"

namespace pans {

// Applies `implementations` (its kernel settings; the rest is ignored here) and returns the CPU
// thread count set. Throws pans::Error for cpu_threads below 1, naming the --threads flag
// the apps fill it from. Not thread-safe: call it while no op runs.
int configure_kernels(const Implementations& implementations);

// The settings the kernels run with now.
const Implementations& kernel_configuration();

}  // namespace pans
