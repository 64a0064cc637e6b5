/* The registry of restores: which checkpoint is being restored, and the
 * last report of each (restore.h). Internal to rpc/restore. */
#pragma once

#include "restore-run.h"

/* Marks (ns, image) as running: -EBUSY if a restore of it runs already. */
int rreg_begin(restore_registry *reg, const char *ns, const char *image);
/* Ends the run of (ns, image): its report (from t and its outcome r)
 * becomes the last one. */
void rreg_finish(restore_registry *reg, const char *ns, const char *image, const restore_run *t, int r);
/* The content root set with restore_registry_set_content_root(), or NULL. */
const char *rreg_content_root(restore_registry *reg);
