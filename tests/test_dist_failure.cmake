# Runs test_dist_failure under mpirun and passes when the job ends non-zero within WITHIN seconds,
# with PANS_DIST_TIMEOUT=TIMEOUT, and says why it ended.
# Usage: cmake -DLAUNCH="mpirun|args|..." -DPROGRAM=path -DFAILURE=killed|hung -DCOLLECTIVE=blocking|started
#              -DTIMEOUT=s -DWITHIN=s -P this
string(REPLACE "|" ";" launch "${LAUNCH}")
set(ENV{PANS_DIST_TIMEOUT} ${TIMEOUT})
string(TIMESTAMP start "%s" UTC)
# execute_process's own TIMEOUT stops a job that hangs regardless (ctest's TIMEOUT is the outer guard).
execute_process(COMMAND ${launch} ${PROGRAM} ${FAILURE} ${COLLECTIVE} RESULT_VARIABLE status OUTPUT_VARIABLE output
                ERROR_VARIABLE output TIMEOUT ${WITHIN})
string(TIMESTAMP end "%s" UTC)
math(EXPR seconds "${end} - ${start}")
message("${output}")
if(status EQUAL 0)
  message(FATAL_ERROR "the job with a ${FAILURE} rank exited 0 after ${seconds} s")
endif()
if(NOT status MATCHES "^[0-9]+$")
  message(FATAL_ERROR "the job with a ${FAILURE} rank did not end within ${WITHIN} s: ${status}")
endif()
# Who ended it: our watchdog (the hung rank always; the killed one when the transport notices first)
# or mpirun, which ends a job whose rank died on a signal.
if(NOT output MATCHES "did not complete within ${TIMEOUT} s|signal 9|Killed")
  message(FATAL_ERROR "the job with a ${FAILURE} rank ended (status ${status}) without saying why")
endif()
if(FAILURE STREQUAL "hung" AND NOT output MATCHES "did not complete within ${TIMEOUT} s")
  message(FATAL_ERROR "the job with a hung rank ended (status ${status}) without the watchdog's message")
endif()
message(STATUS "the job with a ${FAILURE} rank ended with status ${status} after ${seconds} s")
