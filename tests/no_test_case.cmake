# Runs a test binary with a case name that matches none and passes when it fails saying so
# (tests/case_counter.h): a ctest whose case was renamed must not pass untested.
# Usage: cmake "-DCOMMAND=program|args|..." -P this
string(REPLACE "|" ";" command "${COMMAND}")
execute_process(COMMAND ${command} RESULT_VARIABLE status OUTPUT_VARIABLE output ERROR_VARIABLE output)
if(status EQUAL 0 OR NOT output MATCHES "no test case matches the filters")
  message(FATAL_ERROR "a case name that matches none ended with status ${status}, not a failure that says so:\n${output}")
endif()
