#include "bench/environment.h"

#include <cstdio>
#include <ctime>

namespace pans::bench {

using nlohmann::json;

std::string run_command(const std::string& command) {
  std::string output;
  FILE* pipe = popen((command + " 2>/dev/null").c_str(), "r");
  if (pipe == nullptr) return "";
  char buffer[512];
  while (std::fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  pclose(pipe);
  while (!output.empty() && (output.back() == '\n' || output.back() == ' ')) output.pop_back();
  return output;
}

std::string utc_now() {
  const std::time_t now = std::time(nullptr);
  char text[32];
  std::strftime(text, sizeof(text), "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  return text;
}

json commit_json() {
  const std::string source = PANS_SOURCE_DIR;
  const std::string head = run_command("git -C '" + source + "' rev-parse HEAD");
  if (head.size() == 40) {
    const bool dirty = !run_command("git -C '" + source + "' status --porcelain --untracked-files=no").empty();
    return {{"hash", head}, {"dirty", dirty}, {"source", "git rev-parse HEAD at run time in " + source}};
  }
  return {
      {"hash", PANS_CONFIGURE_COMMIT}, {"dirty", nullptr}, {"source", "git rev-parse HEAD at CMake configure time"}};
}

}  // namespace pans::bench
