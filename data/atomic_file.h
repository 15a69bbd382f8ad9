// Writes a whole file so that readers see the old file or the new one, never a part: the bytes go
// to a temporary file in the same folder (a name no other thread or process picks), are fsynced
// (FileSync::Now), and the temporary is renamed over `path`. On any failure (a full disk, a file
// size limit, a process killed mid-write) `path` is left as it was; on a failure reported here the
// temporary is removed too, and the error names `path`, what failed and why.
#pragma once

#include <cstddef>
#include <string>

namespace pans {

// When the bytes reach the disk. Now: fsync before the rename, so after a crash `path` holds the old
// file or the new one. Deferred: the caller flushes a whole batch at once (the scene generator
// writes a thousand files, syncs the file system once, then writes its manifest); an fsync per file
// would triple its time.
enum class FileSync { Now, Deferred };

// A file written in pieces (a checkpoint, tensor by tensor): created as the temporary, given its
// final name by commit(). Destroyed without commit() (an exception on the way), it removes the
// temporary.
class AtomicFile {
 public:
  explicit AtomicFile(const std::string& path, FileSync sync = FileSync::Now);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* bytes, std::size_t size);
  void commit();

 private:
  [[noreturn]] void fail(const char* what, int error);

  std::string path_, temporary_;
  FileSync sync_;
  int fd_ = -1;
};

void write_file_atomically(const std::string& path, const void* bytes, std::size_t size,
                           FileSync sync = FileSync::Now);
inline void write_file_atomically(const std::string& path, const std::string& bytes, FileSync sync = FileSync::Now) {
  write_file_atomically(path, bytes.data(), bytes.size(), sync);
}

}  // namespace pans
