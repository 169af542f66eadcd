/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/* What the verbs of cchostctl share: the parsed options and a few helpers. One verb family a file. */

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "finding.h"
#include "host.h"

#define EXIT_NOT_READY 1
#define EXIT_ERROR 2

extern const char *arg_root;
extern bool arg_json;
extern int arg_color;
extern Tee arg_tee;
extern const char *arg_libvirt_uri;
extern bool arg_markdown;
extern const char *arg_output;
extern const char *arg_config;
extern bool arg_dry_run;
extern bool arg_reboot;
extern bool arg_resume;
extern const char *arg_tdx_bundle; /* certs import --tdx BUNDLE */
extern const char *arg_snp_bundle; /* certs import --snp BUNDLE */
extern const char *arg_profile;    /* harden, report: --profile FILE */
extern const char *arg_format;     /* report: --format json|xccdf|text */
/* FDE (issue 6) */
extern const char *arg_tcti;            /* --tcti: overrides tpm.tcti of cchost.yaml */
extern uint32_t arg_pcr_mask;           /* --pcrs LIST; 0: the default (PCR 7, or the token's) */
extern char **arg_unlock_key_files;     /* --unlock-key-file FILE, multi-valued (NULL: none) */
extern const char *arg_escrow_key;      /* --escrow-key KEY.pem */
extern bool arg_tpm2;                   /* disk enroll --tpm2 */
extern bool arg_volume_key;             /* disk rotate --volume-key */
extern bool arg_recovery_key;           /* --no-recovery-key clears it */
extern bool arg_print_recovery_key;     /* --print-recovery-key */
extern bool arg_due;                    /* disk rotate --due */
extern const char *arg_bus_address;     /* status, monitor: --bus-address ADDR */

#if CCHOST_TEST_HOOKS
/* cchostctl-test only (test-hooks-env.c): fills in the test hooks from the environment (logs the error). */
int test_hooks_from_env(void);
#endif

/* Opens --root (logs the error). */
int open_host(Host **ret);
/* Pretty JSON on stdout, slashes unescaped. */
void print_json(json_object *o);

/* baseline verify | show | install (verb-baseline.c) */
int verb_baseline(int argc, char *argv[]);

/* certs import | show (verb-certs.c), with the TEE halves in certs-tdx.c and certs-snp.c */
int verb_certs(int argc, char *argv[]);
/* Imports a bundle into the cache under the root; returns 0, or <0 after logging why it was refused. */
int certs_import_tdx(Host *h, const char *bundle);
int certs_import_snp(Host *h, const char *bundle);
/* certs fetch: the VCEK chain of this chip from AMD KDS (config snp.kds), verified and installed like an import. */
int certs_fetch_snp(Host *h);
/* Adds what is cached to doc ("tdx": {...} / "snp": {...}); with text, also prints it for people. */
int certs_show_tdx(Host *h, json_object *doc, bool text);
int certs_show_snp(Host *h, json_object *doc, bool text);

/* microcode verify FILE... (verb-microcode.c); sub-verbs dispatched there */
int verb_microcode(int argc, char *argv[]);
/* harden check | enforce | drift, report compliance (verb-harden.c) */
int verb_harden(int argc, char *argv[]);
int verb_report(int argc, char *argv[]);
/* report metrics [-o FILE] (verb-metrics.c) */
int verb_report_metrics(int argc, char *argv[]);
/* disk status | enroll | rotate | reseal (verb-disk.c, FDE issue 6) */
int verb_disk(int argc, char *argv[]);
/* kube preflight, report capacity (verb-kube.c, issue 15) */
int verb_kube_preflight(int argc, char *argv[]);
int verb_report_capacity(int argc, char *argv[]);
/* status, monitor: the front end of cchostd over D-Bus (verb-status.c) */
int verb_status(int argc, char *argv[]);
int verb_monitor(int argc, char *argv[]);
