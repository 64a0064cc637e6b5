/* google.protobuf.Any as containerd fills it. */
#include "containerd.h"

#include <string.h>

bool rpc_any_is(const Google__Protobuf__Any *any, const ProtobufCMessageDescriptor *desc) {
        if (!any || !any->type_url)
                return false;
        /* containerd writes the bare full name ("containerd.events.TaskPaused");
         * the standard form has a host prefix ("type.googleapis.com/..."). */
        const char *slash = strrchr(any->type_url, '/');
        return strcmp(slash ? slash + 1 : any->type_url, desc->name) == 0;
}
