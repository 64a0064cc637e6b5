/* Names of errno values (errname.h). */
#include "errname.h"

#include <stdlib.h>
#include <string.h>

const char *errno_name(int e) {
        if (e == 0)
                return "ok";
        const char *s = strerrorname_np(abs(e));
        return s ? s : "error";
}
