#include "data/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tensor/error.h"

namespace pans {

AtomicFile::AtomicFile(const std::string& path, FileSync sync) : path_(path), sync_(sync) {
  static std::atomic<unsigned long> counter{0};
  temporary_ = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) PANS_FAIL(path_, ": cannot create its temporary file ", temporary_, " (", std::strerror(errno), ")");
}

AtomicFile::~AtomicFile() {
  if (fd_ < 0) return;
  ::close(fd_);
  ::unlink(temporary_.c_str());
}

void AtomicFile::fail(const char* what, int error) {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  ::unlink(temporary_.c_str());
  PANS_FAIL(path_, ": ", what, " failed (", std::strerror(error), "); the file is unchanged and its temporary ",
            temporary_, " removed");
}

void AtomicFile::write(const void* bytes, std::size_t size) {
  PANS_CHECK(fd_ >= 0, path_, ": write after the file was committed or failed");
  const char* data = static_cast<const char*>(bytes);
  // A short write (the file size limit reached mid-call, a signal) is retried: the next call then
  // reports the error (ENOSPC, EFBIG) that stopped it.
  for (std::size_t written = 0; written < size;) {
    const ssize_t n = ::write(fd_, data + written, size - written);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail("write", errno);
    if (n == 0) fail("write", EIO);
    written += std::size_t(n);
  }
}

void AtomicFile::commit() {
  PANS_CHECK(fd_ >= 0, path_, ": commit after the file was committed or failed");
  if (sync_ == FileSync::Now && ::fsync(fd_) != 0) fail("fsync", errno);
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("close", errno);  // NFS and some others report a failed write only here
  if (std::rename(temporary_.c_str(), path_.c_str()) != 0) {
    const int error = errno;
    ::unlink(temporary_.c_str());
    PANS_FAIL(path_, ": cannot replace it with ", temporary_, " (", std::strerror(error),
              "); the file is unchanged and the temporary removed");
  }
}

void write_file_atomically(const std::string& path, const void* bytes, std::size_t size, FileSync sync) {
  AtomicFile file(path, sync);
  file.write(bytes, size);
  file.commit();
}

}  // namespace pans
