// Where a result came from, on every build (the dry run's too): the commit of the source tree, and
// the shell commands that ask the system (git here, nvidia-smi in device_environment.cpp).
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace pans::bench {

// The command's standard output, trailing newlines and spaces removed; "" when it cannot run.
std::string run_command(const std::string& command);

// The commit, read by `git rev-parse HEAD` in the source tree when the benchmark runs (so a stale
// build still names the tree it measured), else the hash CMake saw at configure time.
nlohmann::json commit_json();

// Now, as 2026-01-31T12:00:00Z.
std::string utc_now();

}  // namespace pans::bench
