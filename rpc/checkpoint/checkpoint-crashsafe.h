/* What a checkpoint run leaves so that a death at any moment can be
 * finished by someone else: the container's lock and its record in the
 * journal (checkpoint-journal.h), kept true at each step that leaves
 * something behind (the dump directory, the lease, the pause, the resume).
 * Also the checks made before the task is paused (room for the dump) and
 * the test-only fault (ckpt_registry_set_fault). Without a journal
 * directory in the registry, the journal calls do nothing.
 * Private to checkpoint-take.c; one thread owns a run. */
#pragma once

#include "checkpoint-run.h"

/* Takes the container's lock (-EBUSY, recorded as the run's failure, when
 * another process checkpoints it) and writes the first record. */
int crashsafe_begin(ckpt_run *t);
/* Rewrites the record from the run's state. A record that cannot be
 * written fails the run before the step it guards (-errno). */
int crashsafe_note(ckpt_run *t);
/* The run is over: the record goes when nothing is left to finish (the
 * task not left paused, the lease gone); else it stays for the guardian or
 * the next start. Releases the lock. */
void crashsafe_end(ckpt_run *t);
/* -ENOSPC (recorded) when the dump location or the content store cannot
 * hold the task's memory. */
int crashsafe_check_room(ckpt_run *t);
/* The test fault: SIGKILL of this process, now or after its delay, when
 * the run enters stage s. */
void crashsafe_fault(ckpt_run *t, enum stage s);
