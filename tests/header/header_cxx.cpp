// procmon.h must compile as C++ (-pedantic -Wall -Wextra -Werror) with C linkage.
#include "procmon.h"

static_assert(sizeof(procmon_process) % 8 == 0, "procmon_process stays 8-byte aligned");

int main() {
    procmon_options o = PROCMON_OPTIONS_INIT;
    procmon_query q = PROCMON_QUERY_INIT;
    int (*enumerate)(procmon_snapshot **, procmon_ctx *, const procmon_query *) = &procmon_enumerate;
    (void)o;
    (void)q;
    return enumerate == nullptr ? 1 : 0;
}
