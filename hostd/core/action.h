/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "host.h"
#include "report.h"

struct EngineRun;

/*
 * What a failing check asks for, before it becomes concrete actions: kernel arguments to add or
 * remove, module options, modules to load at boot. Probes fill these in (Probe.fix); plan_build()
 * merges them and turns them into file writes and commands for this host's bootloader.
 */
typedef struct Intents {
        char **cmdline_add;
        char **cmdline_remove;
        char **modprobe;        /* "kvm_amd sev=1 sev_es=1 sev_snp=1": module, then its options */
        char **modules_load;    /* modules to load at every boot */
        char **reload;          /* modules to reload now when no guest runs */
        char **manual;          /* "check-id: what an operator must decide" */
        char **bios;            /* BIOS knobs to turn on (bios-map.h) */
        char **firmware;        /* certified files to install: "intel-ucode/06-8f-08" (under /lib/firmware) */
} Intents;

void intents_done(Intents *i);
int intents_add(char ***list, const char *value);

typedef enum ActionKind {
        ACTION_WRITE_FILE,
        ACTION_RUN,
        ACTION_RELOAD_MODULE,
        ACTION_BIOS,            /* BIOS attributes over Redfish, applied at the next reset */
        ACTION_INSTALL_FILE,    /* copy a staged file into place once its SHA-256 is the certified one */
        ACTION_MICROCODE_RELOAD, /* late-load the installed microcode (policy and the minimum-revision rule allowing) */
        /* harden enforce's actions (hardening/enforce-*.c): the target is a file, unit or sysctl key, the
         * fixes the profile's rule ids; a journal of one operation holds only its own kinds (journal.h) */
        ACTION_SYSCTL_FILE,
        ACTION_SYSCTL_RUNTIME,
        ACTION_MODPROBE_FILE,
        ACTION_SSHD_FILES,
        ACTION_FSTAB,
        ACTION_FILE_MODE,
        ACTION_FILE_OWNER,
        ACTION_UNIT_MASK,
        ACTION_UNIT_ENABLE,
        ACTION_FILE_LINE,
        /* the disk operations' steps (hardening/fde-ops.c): the target is the device */
        ACTION_FDE_BIND,        /* sealed secret -> keyslot -> systemd-tpm2 token -> drop the old token and slot */
        ACTION_FDE_RECOVERY,    /* add, verify and escrow the recovery keyslot */
        _ACTION_KIND_MAX,
        _ACTION_KIND_INVALID = -EINVAL,
} ActionKind;

typedef enum ActionState {
        ACTION_PENDING,
        ACTION_STARTED,
        ACTION_DONE,
        ACTION_DEFERRED,  /* left to the reboot (e.g. a module in use) */
        ACTION_FAILED,
        _ACTION_STATE_MAX,
        _ACTION_STATE_INVALID = -EINVAL,
} ActionState;

typedef struct Action {
        char *id;               /* stable within a plan: "write:/etc/modprobe.d/cchost.conf" */
        ActionKind kind;
        char *description;
        char *path;             /* WRITE_FILE: root-relative */
        char *content;
        char *diff;             /* WRITE_FILE: unified diff from the file as it was planned against (plan-text.c) */
        unsigned mode;
        char **argv;            /* RUN */
        char *module;           /* RELOAD_MODULE */
        char *attributes;       /* BIOS: the JSON object of attributes to set */
        char *source;           /* INSTALL_FILE: the staged file, root-relative (path is the destination) */
        char *sha256;           /* INSTALL_FILE: the certified digest, hex */
        char *target;           /* harden enforce's kinds: the file, unit or sysctl key; FDE: the device */
        char *sealed;           /* FDE_BIND: the new systemd-tpm2 token (sealed, so safe at rest) */
        int old_token, old_slot; /* FDE_BIND: what it replaces (-1: nothing) */
        uint32_t slots_before;  /* FDE_RECOVERY: the active keyslots before it began */
        bool reboot;            /* takes effect at the next boot */
        char **fixes;           /* finding ids */
        ActionState state;
        char *error;
} Action;

typedef struct Plan {
        Action *actions;
        size_t n_actions;
        char **manual;
        bool reboot;            /* some action takes effect only after a reboot */
} Plan;

const char *action_kind_to_string(ActionKind k);
ActionKind action_kind_from_string(const char *s);
const char *action_state_to_string(ActionState s);
ActionState action_state_from_string(const char *s);

void plan_done(Plan *p);
/* Drops the actions that are done or deferred: what is left of a recorded run. */
void plan_drop_finished(Plan *p);

/*
 * Turns the failing, fixable findings of a report (and the configuration) into a plan. With only,
 * just those findings (ids) are planned for, and nothing of cchost's own boot-time needs is added.
 */
int plan_build(struct EngineRun *run, const Config *config, const Report *report, char *const *only, Plan *ret, char **ret_error);

/*
 * Serializer (cchost.plan/v1) and its reader, shared by "plan --json" and the journal (journal.h). The reader
 * validates like any input reader: typed, bounded fields, known kinds, descriptions required, modes
 * at most 0777, normalized paths; -EBADMSG with the field and the problem in *ret_error.
 */
json_object *plan_to_json(const Plan *p);
/*
 * The whole document "plan --json" prints: the plan, the root and TEE of the report it was made
 * from, readiness, and the recorded run's journal path when one is left (NULL: none).
 */
struct Report;
json_object *plan_document_to_json(const Plan *p, const struct Report *report, const char *journal);
int plan_from_json(json_object *o, Plan *ret, char **ret_error);

#define MODPROBE_PATH "etc/modprobe.d/cchost.conf"
/* Where the managed service (or Ansible) stages certified files: var/lib/cchost/firmware/<file under /lib/firmware> */
#define FIRMWARE_STAGING_DIR "var/lib/cchost/firmware"
#define FIRMWARE_DIR "lib/firmware"
#define MODULES_LOAD_PATH "etc/modules-load.d/cchost.conf"
