/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>

/*
 * BIOS knobs by what they do ("tme", "snp_memory_coverage", ...), and how each vendor's Redfish BIOS
 * names them. bios_map_resolve() turns knobs into the attribute changes a BMC needs, given the
 * attributes it actually offers; a vendor we do not know, or a knob none of whose names the BMC
 * offers, is an error that lists what the BMC has, so nobody has to guess.
 */

/* Knob names the probes ask for. */
#define BIOS_SMEE "smee"
#define BIOS_SNP "snp"
#define BIOS_SNP_MEMORY_COVERAGE "snp_memory_coverage"
#define BIOS_SEV_ES_ASID_LIMIT "sev_es_asid_limit"
#define BIOS_TME "tme"
#define BIOS_TME_MT "tme_mt"
#define BIOS_TDX "tdx"
#define BIOS_SEAM_LOADER "seam_loader"
#define BIOS_TDX_KEY_SPLIT "tdx_key_split"
#define BIOS_SGX "sgx"
#define BIOS_SGX_LAUNCH_CONTROL "sgx_launch_control"

/*
 * What the BIOS setup menu calls a knob ("SEV-ES ASID Space Limit"), and where to set it and to what
 * ("AMD CBS > CPU Common Options > ... = Manual, ..."), for people; NULL for a knob we do not know.
 */
const char *bios_knob_label(const char *knob);
const char *bios_knob_setting(const char *knob);

/* The vendor key for a BMC's vendor string ("Dell Inc." -> "dell"), or NULL when unknown. */
const char *bios_map_vendor(const char *bmc_vendor);

/*
 * For every knob, the first of its attribute names the BMC offers, set to the value that enables it.
 * ret_patch gets only attributes whose current value differs. Returns 0, or -ENOENT / -EOPNOTSUPP with
 * *ret_error explaining.
 */
int bios_map_resolve(const char *vendor, char *const *knobs, json_object *attributes, json_object **ret_patch,
                     char **ret_error);
