#include "data/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tensor/error.h"

namespace pans {

void write_file_atomically(const std::string& path, const void* bytes, std::size_t size, FileSync sync) {
  static std::atomic<unsigned long> counter{0};
  const std::string temporary = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) PANS_FAIL(path, ": cannot create ", temporary, " (", std::strerror(errno), ")");
  try {
    const char* data = static_cast<const char*>(bytes);
    for (std::size_t written = 0; written < size;) {
      const ssize_t n = ::write(fd, data + written, size - written);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) PANS_FAIL(temporary, ": write failed (", std::strerror(errno), ")");
      written += std::size_t(n);
    }
    if (sync == FileSync::Now && ::fsync(fd) != 0) PANS_FAIL(temporary, ": fsync failed (", std::strerror(errno), ")");
  } catch (...) {
    ::close(fd);
    ::unlink(temporary.c_str());
    throw;
  }
  if (::close(fd) != 0 || std::rename(temporary.c_str(), path.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary.c_str());
    PANS_FAIL(path, ": cannot replace with ", temporary, " (", std::strerror(error), ")");
  }
}

}  // namespace pans
