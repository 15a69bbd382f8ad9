// Writes a whole file so that readers see the old file or the new one, never a part: the bytes go
// to a temporary file in the same folder (a name no other thread or process picks), are fsynced
// (FileSync::Now), and the temporary is renamed over `path`. On any failure the temporary is removed
// and `path` is left as it was.
#pragma once

#include <cstddef>
#include <string>

namespace pans {

// When the bytes reach the disk. Now: fsync before the rename, so after a crash `path` holds the old
// file or the new one. Deferred: the caller flushes a whole batch at once (the scene generator
// writes a thousand files, syncs the file system once, then writes its manifest); an fsync per file
// would triple its time.
enum class FileSync { Now, Deferred };

void write_file_atomically(const std::string& path, const void* bytes, std::size_t size,
                           FileSync sync = FileSync::Now);
inline void write_file_atomically(const std::string& path, const std::string& bytes, FileSync sync = FileSync::Now) {
  write_file_atomically(path, bytes.data(), bytes.size(), sync);
}

}  // namespace pans
