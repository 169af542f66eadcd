/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>

#include "config.h"
#include "host.h"

/*
 * A minimal Redfish client for the BIOS settings of one system: TLS verified against the CA file
 * from the configuration (never skipped), HTTP basic credentials from a root-only file (never
 * logged, never in JSON), JSON bodies through json-c. Errors name the URL and the BMC's answer.
 */
typedef struct Redfish Redfish;

int redfish_new(Host *h, const Config *config, Redfish **ret, char **ret_error);
Redfish *redfish_free(Redfish *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(Redfish *, redfish_free);

/* The BMC's vendor, lowercased ("dell", "hpe", "lenovo", "supermicro", or what it said). */
const char *redfish_vendor(Redfish *r);

/* The current BIOS attributes (owned by r) and the URI of the pending-settings object. */
int redfish_bios(Redfish *r, json_object **ret_attributes, char **ret_error);
/* PATCHes attributes into the settings object (applied at the next reset). */
int redfish_bios_set(Redfish *r, json_object *attributes, char **ret_error);
/* The pending attributes (what the next reset applies); caller owns the result. */
int redfish_bios_pending(Redfish *r, json_object **ret, char **ret_error);
