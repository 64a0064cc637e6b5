/* The stages of a checkpoint, in order, as reports and status name them. */
#pragma once

enum stage { S_PREPARE, S_PAUSE, S_DUMP, S_RW, S_RESUME, S_UPLOAD, S_INDEX, S_IMAGE, S_CLEANUP, N_STAGES };
/* "prepare", "pause", ... */
extern const char *const ckpt_stage_names[N_STAGES];
