// The doctest runner of every CPU test binary; tests/case_counter.h fails a run without a test case.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include "tests/case_counter.h"

int main(int argc, char** argv) { return pans::test::fail_without_cases(doctest::Context(argc, argv).run()); }
