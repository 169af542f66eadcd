/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <time.h>

#include "action.h"
#include "hostfs.h"

/*
 * The one journal of every mutating run (provision, harden enforce): what the run planned, where it
 * is, in one format (cchost.journal/v2) and one directory, one file per kind of operation:
 * var/lib/cchost/journal/<operation>.json, 0600, replaced atomically before and after every action.
 * An unfinished run (interrupted, or failed with steps left) is continued by the same loop,
 * journal_apply(), never replaced by a fresh plan behind the operator's back.
 */
#define JOURNAL_DIR "var/lib/cchost/journal"
#define JOURNAL_PROVISION_PATH JOURNAL_DIR "/provision.json"
#define JOURNAL_HARDEN_ENFORCE_PATH JOURNAL_DIR "/harden-enforce.json"
/* Older versions: provisioning's cchost.journal/v1 (read once, then moved into JOURNAL_DIR) and
 * harden enforce's write-only journal (never read back; left alone, noted at debug level). */
#define JOURNAL_LEGACY_PROVISION_PATH "var/lib/cchost/journal.json"
#define JOURNAL_LEGACY_HARDEN_PATH "var/lib/cchost/harden-journal.json"

typedef enum JournalOperation {
        JOURNAL_PROVISION,
        JOURNAL_HARDEN_ENFORCE,
        JOURNAL_DISK,        /* one per LUKS2 volume: journal/disk-<uuid>.json (hardening/fde-ops.c) */
        _JOURNAL_OPERATION_MAX,
        _JOURNAL_OPERATION_INVALID = -EINVAL,
} JournalOperation;

/* States, in the order a run goes through them. */
#define JOURNAL_APPLYING "applying"
#define JOURNAL_AWAITING_REBOOT "awaiting-reboot"   /* the reboot marker: applied, waiting for a reboot */
#define JOURNAL_REBOOTING "rebooting"
#define JOURNAL_COMPLETE "complete"
#define JOURNAL_FAILED "failed"

typedef struct Journal {
        JournalOperation operation;
        char *run_id;        /* 32 hex digits, new for every fresh run */
        char *state;
        char *boot_id;       /* the boot the actions ran in */
        char *subject;       /* what the run is for: provision the TEE, harden enforce the profile name,
                              * disk the operation (enroll, rotate, reseal) */
        char *instance;      /* disk: the volume's LUKS2 UUID (NULL for the others) */
        char *path;          /* the file, root-relative */
        time_t started;      /* when the run was planned */
        time_t updated;      /* the last write */
        Plan plan;           /* with every action's state */
        bool legacy;         /* read from an older version's file: the next write moves it */
        unsigned writes;     /* journal writes in this process (for crash tests) */
} Journal;

const char *journal_operation_to_string(JournalOperation o);
JournalOperation journal_operation_from_string(const char *s);
/* "var/lib/cchost/journal/provision.json" (root-relative); NULL for JOURNAL_DISK (one file per volume). */
const char *journal_path(JournalOperation o);
/* The file of operation o for instance (disk: "journal/disk-<uuid>.json"; NULL: a fixed path).
 * -EINVAL when instance is not a UUID-like name (hex digits and dashes). */
int journal_path_for(JournalOperation o, const char *instance, char **ret);

void journal_done(Journal *j);

/* This boot's id under the root ("unknown" when it cannot be read; NULL: out of memory). */
char *journal_boot_id(HostFs *fs);

/* A fresh run of operation o for plan (taken over: *plan is emptied). */
int journal_begin(Journal *j, JournalOperation o, const char *subject, const char *boot_id, Plan *plan);
/* The same for one instance of the operation (disk: the volume's UUID). */
int journal_begin_instance(Journal *j, JournalOperation o, const char *instance, const char *subject,
                           const char *boot_id, Plan *plan);

/*
 * Reads the journal of operation o: 0 when there is none, 1 with *ret filled in. Every field is
 * checked like any input (typed, bounded, valid UTF-8, no control characters, known states and the
 * action kinds of that operation); -EBADMSG with the file and the problem in *ret_error.
 */
int journal_load(HostFs *fs, JournalOperation o, Journal *ret, char **ret_error);
int journal_load_instance(HostFs *fs, JournalOperation o, const char *instance, Journal *ret, char **ret_error);
/* Removes the journal's file: the run is over and leaves nothing (disk operations). */
int journal_remove(HostFs *fs, Journal *j);
/* Parses one journal document (the file's text); path names it in errors. */
int journal_parse(const char *text, JournalOperation o, const char *path, Journal *ret, char **ret_error);

/* Writes the journal atomically (0600). */
int journal_write(HostFs *fs, Journal *j);
/* Sets the state and writes. */
int journal_set_state(HostFs *fs, Journal *j, const char *state);

/* The first action that is neither done nor deferred, or NULL. */
const Action *journal_first_left(const Journal *j);
/*
 * A run that is not over: interrupted (applying), failed with steps left, or applied and waiting
 * for the reboot in this very boot (now_boot).
 */
bool journal_unfinished(const Journal *j, const char *now_boot);
/* The actions about to run again are recorded as running in this boot. */
int journal_take_boot(Journal *j, const char *now_boot);

/*
 * What journal_apply() does with each action. apply returns <0 on failure with the reason in
 * *ret_reason (may stay NULL), else 0 (nothing to change) or 1 (changed); it may mark the action
 * deferred. started runs right before an action, finished right after it (both may be NULL).
 */
typedef struct JournalApplier {
        int (*apply)(Action *a, size_t index, void *userdata, char **ret_reason);
        void (*started)(const Action *a, void *userdata);
        void (*finished)(const Action *a, size_t index, int result, void *userdata);
        void *userdata;
        bool keep_going;     /* a failed action is recorded and the next one runs (harden enforce);
                              * else the run stops there, failed (provision) */
} JournalApplier;

/*
 * The one apply loop: every action that is not done or deferred is journaled as started, applied,
 * and journaled with its outcome ("started" left by a crash means: do it again, every action is
 * idempotent). Returns the number of failed actions (0: all applied), or a negative errno when the
 * journal cannot be written or, without keep_going, when an action failed (*ret_error says which).
 * The run's state is left "applying" (the caller finishes it), or "failed" after a stop.
 */
int journal_apply(HostFs *fs, Journal *j, const JournalApplier *a, char **ret_error);
