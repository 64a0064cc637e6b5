#include "checkpoint-stage.h"

const char *const ckpt_stage_names[N_STAGES] = {
        "prepare", "pause", "dump", "rw", "resume", "upload", "index", "image", "cleanup",
};
