#include "platform/dynlib.hpp"

#include <dlfcn.h>

namespace procmon::platform {

void *load_library(const char *soname) { return dlopen(soname, RTLD_NOW | RTLD_LOCAL); }
void *library_symbol(void *lib, const char *name) { return dlsym(lib, name); }
const char *library_error() { return dlerror(); }

}  // namespace procmon::platform
