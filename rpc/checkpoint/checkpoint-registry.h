/* The registry as ckpt_take() drives it (checkpoint-registry.c); the rest
 * of its API is public (checkpoint.h). Thread-safe. */
#pragma once

#include "checkpoint.h"

typedef struct ckpt_entry ckpt_entry;
/* Marks (ns, id) running; -EBUSY if it runs already. *ret stays valid
 * until ckpt_registry_end(). */
int ckpt_registry_begin(ckpt_registry *reg, const char *ns, const char *id, ckpt_entry **ret);
/* The current stage (a static string), shown by status and report. */
void ckpt_registry_stage(ckpt_registry *reg, ckpt_entry *e, const char *stage);
/* Ends the run: takes ownership of `report` and `status` (malloc'd, may be
 * NULL on out-of-memory) as the last result, and keeps the index digest of
 * the image it made (NULL: none). */
void ckpt_registry_end(ckpt_registry *reg, ckpt_entry *e, char *report, char *status, const char *index_digest);
int ckpt_registry_upload_mode(ckpt_registry *reg);
/* The parent directory for private dump dirs set by the user (owned by
 * the registry); NULL: choose per checkpoint (ckpt_pick_work_root). */
const char *ckpt_registry_work_dir(ckpt_registry *reg);
/* The settings of checkpoint.h; NULL when not set. */
const char *ckpt_registry_journal_dir(ckpt_registry *reg);
const char *ckpt_registry_content_root(ckpt_registry *reg);
unsigned ckpt_registry_keep(ckpt_registry *reg);
/* Whether the test fault is set for stage (an enum stage of
 * checkpoint-run.h), and its delay. */
bool ckpt_registry_fault(ckpt_registry *reg, int stage, long *ret_ms);
