// pans reports every failure as a pans::Error carrying a message that names what went wrong;
// library code never exits the process.
#pragma once

#include <sstream>
#include <stdexcept>
#include <string>

namespace pans {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

namespace detail {

template <class... Parts>
std::string concat(const Parts&... parts) {
  std::ostringstream out;
  (out << ... << parts);
  return out.str();
}

[[noreturn]] void throw_error(const char* file, int line, const std::string& message);

}  // namespace detail
}  // namespace pans

// PANS_CHECK(condition, message parts...): throws pans::Error with the parts streamed together
// and the source location appended, e.g. PANS_CHECK(n > 0, "conv2d: batch is ", n).
#define PANS_CHECK(condition, ...)                                                                          \
  do {                                                                                                      \
    if (!(condition)) ::pans::detail::throw_error(__FILE__, __LINE__, ::pans::detail::concat(__VA_ARGS__)); \
  } while (0)

#define PANS_FAIL(...) ::pans::detail::throw_error(__FILE__, __LINE__, ::pans::detail::concat(__VA_ARGS__))
