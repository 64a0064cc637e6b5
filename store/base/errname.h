/* The name of an errno value for the words users read ("EEXIST" in `cat
 * checkpoint`, `cat restore`): "ok" for 0, the symbol for e or -e, "error"
 * for a value without one. Thread-safe. */
#pragma once

const char *errno_name(int e);
