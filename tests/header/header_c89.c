/* procmon.h must compile as C89 plus <stdint.h>: -std=c89 -pedantic -Wall -Wextra -Werror. */
#include "procmon.h"

int main(void) {
    procmon_options o = PROCMON_OPTIONS_INIT;
    procmon_query q = PROCMON_QUERY_INIT;
    procmon_stats s;
    procmon_error e;
    uint64_t all = PROCMON_FIELDS_ALL;
    s.size = (uint32_t)sizeof s;
    e.code = PROCMON_ENOMEM;
    (void)o;
    (void)q;
    (void)e;
    (void)all;
    return s.size == 0 || PROCMON_VERSION_NUMBER < 100 ? 1 : 0;
}
