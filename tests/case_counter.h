// Makes a test binary fail a run that starts no test case. Each ctest runs the case its name
// selects: the mpi ones by names written out in tests/CMakeLists.txt, the others by the names
// discovery listed, which CMake splits at a ';'. A name that matches no case must fail its ctest,
// not pass having tested nothing. Listing the cases, as discovery does, is not a run.
#pragma once

#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>

namespace pans::test {

// doctest creates its listeners for each run and deletes them when it ends, so the counts are static.
struct CaseCounter : doctest::IReporter {
  static inline bool ran = false;  // not set by --list-test-cases, --count, --help or --version
  static inline int cases = 0;

  explicit CaseCounter(const doctest::ContextOptions&) {}
  void test_run_start() override { ran = true; }
  void test_case_start(const doctest::TestCaseData&) override { ++cases; }

  void report_query(const doctest::QueryData&) override {}
  void test_run_end(const doctest::TestRunStats&) override {}
  void test_case_reenter(const doctest::TestCaseData&) override {}
  void test_case_end(const doctest::CurrentTestCaseStats&) override {}
  void test_case_exception(const doctest::TestCaseException&) override {}
  void subcase_start(const doctest::SubcaseSignature&) override {}
  void subcase_end() override {}
  void log_assert(const doctest::AssertData&) override {}
  void log_message(const doctest::MessageData&) override {}
  void test_case_skipped(const doctest::TestCaseData&) override {}
};

// doctest's exit status of the run, or failure when it started no test case.
inline int fail_without_cases(int status) {
  if (CaseCounter::ran && CaseCounter::cases == 0) {
    std::fprintf(stderr, "no test case matches the filters: nothing was tested\n");
    return EXIT_FAILURE;
  }
  return status;
}

}  // namespace pans::test

REGISTER_LISTENER("case_counter", 1, pans::test::CaseCounter);
