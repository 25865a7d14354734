// Everything is inline in include/spin_wait.h; SwiftPM needs one source file per C target.
#include "spin_wait.h"
