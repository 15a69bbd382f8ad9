// What the fuzz targets share: the parsers take paths, so each input is written to a file in a
// folder of this process's own (under the system's temporary folder, removed at exit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace pans::fuzz {

// A folder that lives as long as the process: /tmp/pans-fuzz-<pid>-XXXXXX.
const std::string& scratch_folder();

// Writes `size` bytes to `<scratch folder>/<name>` and returns the path.
std::string write_input(const std::string& name, const std::uint8_t* data, std::size_t size);

}  // namespace pans::fuzz
