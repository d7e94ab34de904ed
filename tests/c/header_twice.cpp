/* The header compiles alone and twice included (built with -Wall -Wextra -Werror). */
#include "flowdb.h"
#include "flowdb.h"
int flowdb_header_compiles_cpp() { return FLOWDB_VERSION_MAJOR + (int)sizeof(flowdb_stats_t) * 0; }
#include "flowdb.hpp"
#include "flowdb.hpp"
