/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "hostfs.h"
#include "macro.h"

/*
 * One writer per root at a time: every mutating engine action (provision, harden enforce, the disk
 * operations, certs import/fetch, baseline install, microcode staging) holds an exclusive flock on
 * <root>/run/cchost/lock while it changes the tree. The lock is never waited for: a second writer
 * (cchostctl beside cchostd, two cchostctl, two jobs of one daemon) fails at once with -EBUSY and a
 * sentence naming the holder, which the holder wrote into the file after it locked it:
 * "pid 1234 (cchostd) since 2026-12-02T01:55:00Z". The kernel drops the lock when the holder dies;
 * a clean release removes the file again (and the directories that acquiring it created), so a
 * refused or failed run leaves the tree as it found it.
 */
#define ENGINE_LOCK_PATH "run/cchost/lock"

typedef struct EngineLock EngineLock;

/*
 * Takes the lock of the root fs for who (a program name; NULL: this program's name). Returns 0 with
 * *ret, -EBUSY when another writer holds it, or another negative errno (the lock file cannot be
 * made); *ret_error says why in every failure.
 */
int engine_lock_acquire(HostFs *fs, const char *who, EngineLock **ret, char **ret_error);
/* Releases the lock (NULL: nothing); returns NULL. */
EngineLock *engine_lock_release(EngineLock *l);
DEFINE_TRIVIAL_CLEANUP_FUNC(EngineLock *, engine_lock_release);
