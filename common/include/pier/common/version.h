#pragma once

namespace pier {

// "0.1.0+<git sha>", set by CMake.
const char* Version();

}  // namespace pier
