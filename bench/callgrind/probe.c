/* Counting on and off from inside a gunicorn worker, for bench/instructions.py (built by it with gcc -shared). */
#include <valgrind/callgrind.h>

/* Instrument from here on, with the counters at zero. */
void probe_start(void) {
    CALLGRIND_START_INSTRUMENTATION;
    CALLGRIND_ZERO_STATS;
}

/* Write what was counted since probe_start to callgrind's output file, then stop instrumenting. */
void probe_stop(void) {
    CALLGRIND_DUMP_STATS;
    CALLGRIND_STOP_INSTRUMENTATION;
}
