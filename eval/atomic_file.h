// Writes a whole file so that readers see the old file or the new one, never a part: the bytes go
// to a temporary file in the same folder, are fsynced, and the temporary is renamed over `path`.
#pragma once

#include <string>

namespace pans {

void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace pans
