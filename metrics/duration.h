// How the progress lines of training and of evaluation show a time, elapsed or to go.
#pragma once

#include <string>

namespace pans {

// "2h05m", "5m40s", "12s".
std::string format_duration(double seconds);

}  // namespace pans
