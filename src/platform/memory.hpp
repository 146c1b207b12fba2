// What the C library's allocator tells about its blocks.
#pragma once

#include <cstddef>

namespace procmon::platform {

// The bytes usable in a block from std::malloc (at least what was asked).
std::size_t malloc_usable_bytes(void *block);

}  // namespace procmon::platform
