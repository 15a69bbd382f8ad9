// The apps killed mid-write (SIGKILL, at many points of a write): train_pans, resumed after each
// kill, ends with the bits of a run that never stopped; no file of train_pans, infer_pans or
// eval_pans ever holds a partial file under its final name (data/atomic_file.h). The kills are aimed
// at writes: the test polls the output folder and kills a varying time after a temporary appears.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "checkpoint/checkpoint.h"
#include "data/png.h"
#include "eval/npy.h"
#include "tests/test_helpers.h"
#include "tests/tiny_training.h"

using namespace pans;
using namespace pans::test;
namespace fs = std::filesystem;

namespace {

// Starts `argv` with its output appended to `log`.
pid_t spawn(const std::vector<std::string>& argv, const std::string& log) {
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0 || ::dup2(fd, 1) < 0 || ::dup2(fd, 2) < 0) ::_exit(127);
    std::vector<char*> args;
    for (const std::string& arg : argv) args.push_back(const_cast<char*>(arg.c_str()));
    args.push_back(nullptr);
    ::execv(args[0], args.data());
    ::_exit(127);
  }
  return pid;
}

int exit_status(pid_t pid) {
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Whether a temporary of data/atomic_file.h whose name holds `part` is under `folder`. Its names hold
// ".tmp.<pid>.": with a `pid`, one process's temporaries only, not those an earlier killed one left.
bool holds_temporary(const fs::path& folder, pid_t pid = 0, const std::string& part = "") {
  const std::string mark = pid == 0 ? ".tmp." : ".tmp." + std::to_string(pid) + ".";
  std::error_code missing;
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(folder, missing)) {
    const std::string name = entry.path().filename().string();
    if (name.find(mark) != std::string::npos && name.find(part) != std::string::npos) return true;
  }
  return false;
}

// Waits until the process has a temporary file under `folder` whose name holds `part`, then sleeps
// `delay` and kills it (true); or until the process ends first (false, its exit status in `status`).
// A process may also end on its own during the delay, the kill then reaching nothing: that counts as
// ending first, so the caller checks its exit status as a run's, not as a kill's.
bool kill_during_a_write(pid_t pid, const fs::path& folder, std::chrono::microseconds delay, int& status,
                         const std::string& part = "") {
  for (;;) {
    if (holds_temporary(folder, pid, part)) {
      std::this_thread::sleep_for(delay);
      ::kill(pid, SIGKILL);
      status = exit_status(pid);
      return status == 128 + SIGKILL;
    }
    int raw = 0;
    const pid_t ended = ::waitpid(pid, &raw, WNOHANG);
    REQUIRE(ended >= 0);
    if (ended == pid) {
      status = WIFEXITED(raw) ? WEXITSTATUS(raw) : 128 + WTERMSIG(raw);
      return false;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

// Every file under `folder` with a final name (not a temporary) must read whole with its reader.
void check_final_names_are_whole(const fs::path& folder) {
  for (const fs::directory_entry& entry : fs::recursive_directory_iterator(folder)) {
    const std::string path = entry.path().string(), name = entry.path().filename().string();
    if (!entry.is_regular_file() || name.find(".tmp.") != std::string::npos) continue;
    CAPTURE(path);
    const std::string extension = entry.path().extension().string();
    if (name.rfind("checkpoint_", 0) == 0)
      CHECK_NOTHROW(read_checkpoint(path));
    else if (extension == ".png")
      CHECK_NOTHROW(read_rgb_png(path));
    else if (extension == ".npy")
      CHECK_NOTHROW(read_npy_matrix(path));
    else if (extension == ".json")
      CHECK_NOTHROW(nlohmann::json::parse(std::ifstream(path)));
    else if (extension == ".svg")
      CHECK(std::string(std::istreambuf_iterator<char>(std::ifstream(path).rdbuf()), {}).find("</svg>") !=
            std::string::npos);
  }
}

// Delays after a temporary appears: from at once to well past a small file's write and fsync.
const std::vector<std::chrono::microseconds> kDelays = {
    std::chrono::microseconds(0),    std::chrono::microseconds(300),  std::chrono::microseconds(1000),
    std::chrono::microseconds(100),  std::chrono::microseconds(3000), std::chrono::microseconds(30),
    std::chrono::microseconds(2000), std::chrono::microseconds(600),  std::chrono::microseconds(10000),
    std::chrono::microseconds(0)};

// `program`, then the words of `flags` (split at spaces: the test's paths hold none).
std::vector<std::string> command(const std::string& program, const std::string& flags) {
  std::vector<std::string> words = {program};
  std::istringstream split(flags);
  for (std::string word; split >> word;) words.push_back(word);
  return words;
}

std::vector<std::string> train_command(const std::string& data, const std::string& out, int iterations = 6) {
  return command(PANS_TRAIN_PANS,
                 "--device cpu --threads 1 --workers 1 --crop 48 --checkpoint-every 1 --val-every 0 "
                 "--log-every 1 --resume --iterations " +
                     std::to_string(iterations) + " --data " + data + " --out " + out);
}

}  // namespace

TEST_CASE("kill: train_pans killed during checkpoint writes, resumed each time, ends with the bits of one run") {
  TempDir dir;
  const std::string data = tiny_dataset(dir.path()), log = dir / "log.txt";
  REQUIRE(exit_status(spawn(train_command(data, dir / "straight"), log)) == 0);
  const Checkpoint straight = read_checkpoint(checkpoint_path(dir / "straight", 6));

  const fs::path out = dir / "killed";
  int kills_mid_write = 0, kills = 0;
  std::string progress;  // the newest complete checkpoint after each kill
  for (std::size_t round = 0; round < kDelays.size(); ++round) {
    const std::chrono::microseconds delay = kDelays[round];
    // The write killed: of the checkpoint after the newest complete one, or every other round of the
    // one after that (so that the run gets on), up to the last.
    const std::vector<std::int64_t> before = complete_checkpoints(out.string());
    const std::int64_t target = std::min<std::int64_t>(6, (before.empty() ? 0 : before.back()) + 1 + round % 2);
    CAPTURE(delay.count());
    CAPTURE(target);
    int status = 0;
    char digits[16];
    std::snprintf(digits, sizeof digits, "_%08lld", static_cast<long long>(target));
    const pid_t pid = spawn(train_command(data, out.string()), log);
    if (!kill_during_a_write(pid, out, delay, status, digits)) {
      REQUIRE(status == 0);  // it finished before a write could be hit
      break;
    }
    ++kills;
    kills_mid_write += holds_temporary(out, pid);  // killed before the rename: its temporary stays behind
    check_final_names_are_whole(out);
    const std::vector<std::int64_t> done = complete_checkpoints(out.string());
    progress += " " + (done.empty() ? std::string("-") : std::to_string(done.back()));
  }
  // With a checkpoint every iteration most kills land inside a write; some must have (else the test
  // tested nothing), and every one left complete files only.
  CHECK(kills >= 3);
  CHECK(kills_mid_write >= 2);
  REQUIRE(exit_status(spawn(train_command(data, out.string()), log)) == 0);
  CHECK_FALSE(holds_temporary(out));  // the resumed run removed what the killed writes left
  const Checkpoint resumed = read_checkpoint(checkpoint_path(out.string(), 6));
  REQUIRE(resumed.tensors.size() == straight.tensors.size());
  for (std::size_t i = 0; i < straight.tensors.size(); ++i) {
    CAPTURE(straight.tensors[i].name);
    CHECK(resumed.tensors[i].name == straight.tensors[i].name);
    CHECK(resumed.tensors[i].value.to_vector<float>() == straight.tensors[i].value.to_vector<float>());
  }
  MESSAGE(kills, " kills, ", kills_mid_write,
          " of them before a temporary was renamed; complete checkpoints after each:", progress);
}

TEST_CASE("kill: infer_pans and eval_pans killed during their writes leave no partial file under a final name") {
  TempDir dir;
  const std::string data = tiny_dataset(dir.path(), 2), log = dir / "log.txt";
  REQUIRE(exit_status(spawn(train_command(data, dir / "run", 1), log)) == 0);
  const std::string checkpoint = checkpoint_path(dir / "run", 1);

  const fs::path infer_out = dir / "infer", eval_out = dir / "eval";
  const std::vector<std::string> infer =
      command(PANS_INFER_PANS, "--device cpu --threads 1 --scales 1 --npy --checkpoint " + checkpoint + " --input " +
                                   data + "/test/images/test --out " + infer_out.string());
  const std::vector<std::string> eval =
      command(PANS_EVAL_PANS, "--device cpu --threads 1 --scales 1 --checkpoint " + checkpoint + " --data " + data +
                                  " --json " + (eval_out / "results.json").string() + " --curves " +
                                  (eval_out / "curves").string());
  fs::create_directories(eval_out / "curves");
  int kills = 0;
  for (const std::chrono::microseconds delay : kDelays) {
    CAPTURE(delay.count());
    for (const auto& [command, out] : {std::pair(infer, infer_out), std::pair(eval, eval_out)}) {
      int status = 0;
      fs::create_directories(out);
      const pid_t pid = spawn(command, log);
      if (kill_during_a_write(pid, out, delay, status))
        ++kills;
      else
        CHECK(status == 0);
      check_final_names_are_whole(out);
    }
  }
  CHECK(kills >= 4);
  MESSAGE(kills, " kills during writes");
}
