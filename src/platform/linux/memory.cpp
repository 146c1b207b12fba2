#include "platform/memory.hpp"

#include <malloc.h>

namespace procmon::platform {

std::size_t malloc_usable_bytes(void *block) { return malloc_usable_size(block); }

}  // namespace procmon::platform
