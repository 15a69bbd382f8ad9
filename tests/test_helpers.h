// Helpers shared by the CPU test binaries: a scratch folder per test case, and the check that an
// error message names what it should.
#pragma once

#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <vector>

#include "tensor/error.h"

namespace pans::test {

// A fresh folder per test case (ctest runs the cases of a binary in parallel, each in its own
// process, hence the process id in the name), removed after.
class TempDir {
 public:
  TempDir() {
    static std::atomic<int> counter{0};
    path_ = std::filesystem::temp_directory_path() /
            ("pans_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string operator/(const std::string& name) const { return (path_ / name).string(); }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Expects `call` to throw pans::Error whose message contains every one of `parts`.
template <class Call>
void check_error_mentions(Call call, const std::vector<std::string>& parts) {
  try {
    call();
    FAIL("no pans::Error thrown");
  } catch (const Error& error) {
    const std::string message = error.what();
    for (const std::string& part : parts) {
      CAPTURE(message);
      CHECK(message.find(part) != std::string::npos);
    }
  }
}

}  // namespace pans::test
