// Loading a shared library at run time (an optional dependency: mimalloc).
#pragma once

namespace procmon::platform {

// Loads the library by its soname, its symbols kept out of the global scope;
// it is never unloaded. nullptr on failure: library_error() says why.
void *load_library(const char *soname);
// The address of `name` in `lib`, nullptr when it has none.
void *library_symbol(void *lib, const char *name);
// The OS's text for this thread's last load failure, nullptr if none.
const char *library_error();

}  // namespace procmon::platform
