/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Key-rotation policy state (issue 14 item 4): when the TPM keyslot and the volume key of each disk
 * were last rotated, in <root>/var/lib/cchost/rotation.json (schema cchost.rotation/v1), so that the
 * policy of cchost.yaml (fde.rotation.keyslot_days / volume_key_days) can say what is due, across
 * restarts and reboots:
 *
 *   {"schema": "cchost.rotation/v1",
 *    "devices": {DEVICE: {"keyslot": 1796083200, "volume_key": 0}}}
 *
 * Times are seconds since the epoch (UTC); 0 means never. A device is named as it is configured in
 * fde.devices (or given to disk rotate). Written atomically through hostfs (temporary file, fsync,
 * rename); read strictly: the file is input like any other, and a broken one is refused with its name
 * and the field, never guessed at.
 */

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "hostfs.h"

#define FDE_ROTATION_PATH "var/lib/cchost/rotation.json"
#define FDE_ROTATION_MAX_DEVICES 1024
#define FDE_ROTATION_FILE_MAX (1024 * 1024)

typedef struct FdeRotationEntry {
        char *device;
        time_t keyslot;     /* last TPM keyslot rotation (or enrolment); 0: never */
        time_t volume_key;  /* last volume-key rotation (re-encryption); 0: never */
} FdeRotationEntry;

typedef struct FdeRotationState {
        FdeRotationEntry *entries;
        size_t n_entries;
} FdeRotationState;

void fde_rotation_done(FdeRotationState *s);
/* Parses the text of a rotation.json; name is used in messages. -EINVAL (or -ENOMEM) with *ret_error. */
int fde_rotation_parse(const char *text, size_t size, const char *name, FdeRotationState *ret, char **ret_error);
/* Reads FDE_ROTATION_PATH under the root; a missing file is the empty state. */
int fde_rotation_load(HostFs *fs, FdeRotationState *ret, char **ret_error);
/* The document (malloc'ed text). -ENOMEM only. */
int fde_rotation_format(const FdeRotationState *s, char **ret);
int fde_rotation_save(HostFs *fs, const FdeRotationState *s, char **ret_error);

const FdeRotationEntry *fde_rotation_get(const FdeRotationState *s, const char *device);
/* Records a rotation of device (its keyslot, or its volume key) at when, in memory. */
int fde_rotation_set(FdeRotationState *s, const char *device, bool volume_key, time_t when);
/* load + set + save, the way the rotation engine records a success. */
int fde_rotation_record(HostFs *fs, const char *device, bool volume_key, time_t when, char **ret_error);
/* The same at clock_now() (the engine's clock, which only the test front end can pin). */
int fde_rotation_record_now(HostFs *fs, const char *device, bool volume_key, char **ret_error);

/*
 * What the policy of c says for device at now: a rotation is due when the policy has a period
 * (keyslot_days / volume_key_days > 0) and the last rotation is that old or older, or there never
 * was one; a rotation missed while the node was off is simply due. *ret_next_* is when the next one
 * is due (the past when due; 0: never recorded, so due now; also 0 when the policy has no period,
 * with *ret_*_due false). Any ret may be NULL.
 */
void fde_rotation_due(const Config *c, const FdeRotationState *s, const char *device, time_t now,
                      bool *ret_keyslot_due, bool *ret_volume_due, time_t *ret_next_keyslot, time_t *ret_next_volume);
