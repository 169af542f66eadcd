/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <stdio.h>
#include <unistd.h>

#include "capture.h"
#include "build-config.h"
#include "engine.h"
#include "log.h"
#include "probe.h"
#include "provision.h"
#include "cli.h"
#include "tpm2-util.h"

/*
 * cchostctl: runs the cchost engine in-process on --root (default "/").
 * Exit codes: 0 ready / ok, 1 not ready / check failed, 2 usage or runtime error.
 */

const char *arg_root = "/";
bool arg_json = false;
int arg_color = -1; /* -1: when stdout is a terminal */
Tee arg_tee = _TEE_INVALID;
const char *arg_libvirt_uri = NULL;
bool arg_markdown = false;
const char *arg_output = NULL;
const char *arg_config = NULL;
bool arg_dry_run = false;
bool arg_reboot = false;
bool arg_resume = false;
const char *arg_tdx_bundle = NULL;
const char *arg_snp_bundle = NULL;
const char *arg_profile = NULL;
const char *arg_format = NULL;
const char *arg_tcti = NULL;
uint32_t arg_pcr_mask = 0;
const char *arg_unlock_key_file = NULL;
bool arg_tpm2 = false;
bool arg_volume_key = false;
bool arg_recovery_key = true;
bool arg_print_recovery_key = false;

static void help(void) {
        printf("cchostctl [OPTIONS...] VERB [ARGS...]\n"
               "\n"
               "Checks that a bare-metal host is ready to run confidential VMs (AMD SEV-SNP or\n"
               "Intel TDX): CPU, BIOS settings (MSRs), kernel, PSP/TDX firmware, KVM, libvirt, QEMU.\n"
               "\n"
               "Verbs:\n"
               "  check                 Run every check for the host's TEE and print the verdict\n"
               "  list-checks           List the checks: id, what each reads, pass rule, remedy\n"
               "  capture --output DIR  Copy everything the checks read (files, registers, ioctl\n"
               "                        answers) into DIR; --root DIR replays it exactly\n"
               "  plan                  Show what provision would change to fix the failing checks\n"
               "  provision             Apply the plan, journaled in /var/lib/cchost/journal.json,\n"
               "                        with at most one reboot, then verify\n"
               "  baseline verify [FILE [SIG]]\n"
               "                        Verify a certified baseline (default: the installed one) against\n"
               "                        the service's public key, and say whether it certifies this node\n"
               "  baseline show         Print the installed, verified baseline and this node's entry\n"
               "  baseline install FILE [SIG]\n"
               "                        Verify FILE (signature SIG, default FILE.sig), then install both\n"
               "  certs import --tdx BUNDLE | --snp BUNDLE\n"
               "                        Verify attestation collateral and install it in the cache\n"
               "  certs show            List the cached collateral, its validity and TCB\n"
               "  certs fetch           Fetch this chip's VCEK and its chain from AMD KDS (only with\n"
               "                        snp.kds.enabled), verify them and install them in the cache\n"
               "  microcode verify FILE...\n"
               "                        Check Intel microcode files or AMD containers (headers,\n"
               "                        checksums, sizes, signature tables) and show what they hold\n"
               "  microcode install [FILE]\n"
               "                        Install the baseline's certified microcode for this CPU (FILE,\n"
               "                        or the copy staged in /var/lib/cchost/firmware/): SHA-256 checked,\n"
               "                        journaled, initramfs refreshed; late-loaded when firmware.late_load\n"
               "                        and the minimum-revision rule allow, else at the next reboot\n"
               "  harden check          Check the hardened host profile (every rule a finding;\n"
               "                        waivers from /etc/cchost/waivers.yaml)\n"
               "  harden enforce        Apply the profile's remediations, journaled in\n"
               "                        /var/lib/cchost/harden-journal.json (--dry-run: plan only)\n"
               "  harden drift          What changed since the last enforce\n"
               "  report compliance     Compliance report (--format json|xccdf|text)\n"
               "  disk status [DEVICE...]\n"
               "                        LUKS2 state of each device or image: cipher, keyslots and their\n"
               "                        PBKDF, tokens, TPM2 binding, recovery slot, reencryption\n"
               "  disk enroll DEVICE --tpm2\n"
               "                        Seal a new key in the TPM (PolicyPCR), add its keyslot and a\n"
               "                        systemd-tpm2 token, and a recovery keyslot escrowed with CMS\n"
               "  disk rotate DEVICE [--volume-key]\n"
               "                        Replace the TPM keyslots (safe order), or re-encrypt the data\n"
               "                        under a new volume key (offline, checksum resilience)\n"
               "  disk reseal DEVICE    Re-bind the TPM keyslots to the current PCRs, authorised by\n"
               "                        the recovery passphrase\n"
               "\n"
               "Options:\n"
               "  -h --help             Show this help\n"
               "     --version          Show the version and the libraries compiled in\n"
               "  -r --root=DIR         Look at the host tree under DIR instead of / (a capture or\n"
               "                        a fixture host); registers come from DIR/.cchost/capture.json\n"
               "                        unless DIR/dev/cpu/N/{cpuid,msr} are character devices\n"
               "     --json             Print JSON (schema cchost.check/v1) instead of text\n"
               "     --tee=auto|snp|tdx Which TEE to check (default: from the CPU vendor)\n"
               "     --libvirt-uri=URI  libvirt connection for the domain capabilities\n"
               "                        (default qemu:///system)\n"
               "     --no-color         Never colour the output (colour is used only on a terminal)\n"
               "     --markdown         With list-checks: print a Markdown table\n"
               "  -o --output=DIR       With capture: where to write the capture tree\n"
               "     --config=FILE      Configuration under the root (default /etc/cchost/cchost.yaml)\n"
               "     --dry-run          With provision or harden enforce: print the plan, change\n"
               "                        nothing\n"
               "     --reboot           With provision: reboot when the changes need it\n"
               "     --resume           With provision: continue an interrupted run\n"
               "     --profile=FILE     Hardening profile (default: /etc/cchost/profile.d/cc-host.yaml\n"
               "                        under the root, else the installed cc-host.yaml)\n"
               "     --format=FORMAT    With report: json, xccdf (XCCDF 1.2 results) or text\n"
               "     --tcti=STRING      TPM2 TCTI (default: tpm.tcti in the configuration, or\n"
               "                        device:/dev/tpmrm0), e.g. swtpm:host=127.0.0.1,port=2321\n"
               "     --pcrs=LIST        With disk enroll/rotate/reseal: PCRs to bind, e.g. 7 or 7+11\n"
               "     --unlock-key-file=FILE\n"
               "                        With disk: an existing passphrase (enroll) or the recovery\n"
               "                        passphrase (reseal, rotate); enroll reads stdin without it\n"
               "     --tpm2             With disk enroll: bind to the TPM2\n"
               "     --volume-key       With disk rotate: rotate the volume key (re-encrypts the data)\n"
               "     --no-recovery-key  With disk enroll: do not add a recovery keyslot\n"
               "     --print-recovery-key\n"
               "                        With disk enroll: print the recovery passphrase on stdout\n"
               "  -v --verbose          Log debug messages to stderr\n"
               "\n"
               "Exit status: 0 ready, 1 not ready (a check failed or could not be decided),\n"
               "2 usage or runtime error.\n");
}

static int parse_argv(int argc, char *argv[]) {
        enum {
                ARG_VERSION = 0x100,
                ARG_JSON,
                ARG_TEE,
                ARG_LIBVIRT_URI,
                ARG_NO_COLOR,
                ARG_MARKDOWN,
                ARG_CONFIG,
                ARG_DRY_RUN,
                ARG_REBOOT,
                ARG_RESUME,
                ARG_TDX,
                ARG_SNP,
                ARG_PROFILE,
                ARG_FORMAT,
                ARG_TCTI,
                ARG_PCRS,
                ARG_UNLOCK_KEY_FILE,
                ARG_TPM2,
                ARG_VOLUME_KEY,
                ARG_NO_RECOVERY_KEY,
                ARG_PRINT_RECOVERY_KEY,
        };
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "root", required_argument, NULL, 'r' },
                { "json", no_argument, NULL, ARG_JSON },
                { "tee", required_argument, NULL, ARG_TEE },
                { "libvirt-uri", required_argument, NULL, ARG_LIBVIRT_URI },
                { "no-color", no_argument, NULL, ARG_NO_COLOR },
                { "markdown", no_argument, NULL, ARG_MARKDOWN },
                { "output", required_argument, NULL, 'o' },
                { "verbose", no_argument, NULL, 'v' },
                { "config", required_argument, NULL, ARG_CONFIG },
                { "dry-run", no_argument, NULL, ARG_DRY_RUN },
                { "reboot", no_argument, NULL, ARG_REBOOT },
                { "resume", no_argument, NULL, ARG_RESUME },
                { "tdx", required_argument, NULL, ARG_TDX },
                { "snp", required_argument, NULL, ARG_SNP },
                { "profile", required_argument, NULL, ARG_PROFILE },
                { "format", required_argument, NULL, ARG_FORMAT },
                { "tcti", required_argument, NULL, ARG_TCTI },
                { "pcrs", required_argument, NULL, ARG_PCRS },
                { "unlock-key-file", required_argument, NULL, ARG_UNLOCK_KEY_FILE },
                { "tpm2", no_argument, NULL, ARG_TPM2 },
                { "volume-key", no_argument, NULL, ARG_VOLUME_KEY },
                { "no-recovery-key", no_argument, NULL, ARG_NO_RECOVERY_KEY },
                { "print-recovery-key", no_argument, NULL, ARG_PRINT_RECOVERY_KEY },
                {},
        };
        int c;

        while ((c = getopt_long(argc, argv, "hr:o:v", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("cchostctl %s\n%s\n", PACKAGE_VERSION, CCHOST_FEATURES);
                        return 0;
                case 'r':
                        arg_root = optarg;
                        break;
                case ARG_JSON:
                        arg_json = true;
                        break;
                case ARG_TEE:
                        if (streq(optarg, "auto"))
                                arg_tee = _TEE_INVALID;
                        else {
                                arg_tee = tee_from_string(optarg);
                                if (arg_tee < 0 || arg_tee == TEE_NONE) {
                                        log_error("--tee: expected auto, snp or tdx, got \"%s\"", optarg);
                                        return -EINVAL;
                                }
                        }
                        break;
                case ARG_LIBVIRT_URI:
                        arg_libvirt_uri = optarg;
                        break;
                case ARG_NO_COLOR:
                        arg_color = 0;
                        break;
                case ARG_MARKDOWN:
                        arg_markdown = true;
                        break;
                case 'o':
                        arg_output = optarg;
                        break;
                case 'v':
                        log_set_max_level(LOG_DEBUG);
                        break;
                case ARG_CONFIG:
                        arg_config = optarg;
                        break;
                case ARG_DRY_RUN:
                        arg_dry_run = true;
                        break;
                case ARG_REBOOT:
                        arg_reboot = true;
                        break;
                case ARG_RESUME:
                        arg_resume = true;
                        break;
                case ARG_TDX:
                        arg_tdx_bundle = optarg;
                        break;
                case ARG_SNP:
                        arg_snp_bundle = optarg;
                        break;
                case ARG_PROFILE:
                        arg_profile = optarg;
                        break;
                case ARG_FORMAT:
                        arg_format = optarg;
                        break;
                case ARG_TCTI:
                        arg_tcti = optarg;
                        break;
                case ARG_PCRS:
                        if (tpm2_parse_pcr_list(optarg, &arg_pcr_mask) < 0) {
                                log_error("--pcrs: expected PCR numbers 0..23 joined by + or \",\", got \"%s\"", optarg);
                                return -EINVAL;
                        }
                        break;
                case ARG_UNLOCK_KEY_FILE:
                        arg_unlock_key_file = optarg;
                        break;
                case ARG_TPM2:
                        arg_tpm2 = true;
                        break;
                case ARG_VOLUME_KEY:
                        arg_volume_key = true;
                        break;
                case ARG_NO_RECOVERY_KEY:
                        arg_recovery_key = false;
                        break;
                case ARG_PRINT_RECOVERY_KEY:
                        arg_print_recovery_key = true;
                        break;
                case '?':
                        return -EINVAL;
                default:
                        return -EINVAL;
                }
        return 1;
}

int open_host(Host **ret) {
        HostOptions o = { .root = arg_root, .libvirt_uri = arg_libvirt_uri, .config_path = arg_config };
        int r;

        r = host_new(&o, ret);
        if (r < 0)
                return log_error_errno(r, "Cannot use %s as the host root: %m", arg_root);
        return 0;
}

void print_json(json_object *o) {
        puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
}

static int verb_check(int argc, char *argv[]) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_(report_freep) Report *report = NULL;
        int r;

        if (argc > 1)
                return log_error_errno(-EINVAL, "check takes no arguments, got \"%s\"", argv[1]);
        r = open_host(&h);
        if (r < 0)
                return r;
        r = engine_check(h, arg_tee, &report);
        if (r < 0)
                return log_error_errno(r, "Check failed: %m");

        if (arg_json) {
                _cleanup_(json_object_putp) json_object *o = report_to_json(report);
                if (!o)
                        return log_error_errno(-ENOMEM, "Out of memory");
                print_json(o);
        } else
                report_print_text(report, stdout, arg_color < 0 ? isatty(STDOUT_FILENO) && !getenv("NO_COLOR") : arg_color);
        return report_ready(report) ? 0 : EXIT_NOT_READY;
}

static const char *tee_label(const Probe *p) {
        if (p->only_without_tee)
                return "none";
        return p->tee == TEE_NONE ? "all" : tee_to_string(p->tee);
}

/* Markdown cells: no newlines or pipes. */
static void md_cell(const char *s) {
        for (; s && *s; s++) {
                if (*s == '|')
                        fputs("\\|", stdout);
                else if (*s == '\n')
                        fputc(' ', stdout);
                else
                        fputc(*s, stdout);
        }
}

static int verb_list_checks(int argc, char *argv[]) {
        if (argc > 1)
                return log_error_errno(-EINVAL, "list-checks takes no arguments, got \"%s\"", argv[1]);

        if (arg_json) {
                _cleanup_(json_object_putp) json_object *a = json_object_new_array();

                for (size_t i = 0; a && i < probe_table_size; i++) {
                        const Probe *p = probe_table[i];
                        json_object *o = json_object_new_object();

                        json_object_object_add(o, "id", json_object_new_string(p->id));
                        json_object_object_add(o, "component", json_object_new_string(p->component));
                        json_object_object_add(o, "tee", json_object_new_string(tee_label(p)));
                        json_object_object_add(o, "parent", p->parent ? json_object_new_string(p->parent) : NULL);
                        json_object_object_add(o, "reads", json_object_new_string(p->reads));
                        json_object_object_add(o, "rule", json_object_new_string(p->rule));
                        json_object_object_add(o, "remedy", json_object_new_string(p->remedy));
                        json_object_object_add(o, "reboot", json_object_new_boolean(p->reboot));
                        json_object_array_add(a, o);
                }
                print_json(a);
                return 0;
        }

        if (arg_markdown) {
                puts("| id | TEE | depends on | reads | passes when | remedy |");
                puts("|---|---|---|---|---|---|");
                for (size_t i = 0; i < probe_table_size; i++) {
                        const Probe *p = probe_table[i];

                        printf("| `%s` | %s | %s%s%s | ", p->id, tee_label(p), p->parent ? "`" : "",
                               p->parent ? p->parent : "", p->parent ? "`" : "");
                        md_cell(p->reads);
                        fputs(" | ", stdout);
                        md_cell(p->rule);
                        fputs(" | ", stdout);
                        md_cell(p->remedy);
                        puts(p->reboot ? " (reboot) |" : " |");
                }
                return 0;
        }

        for (size_t i = 0; i < probe_table_size; i++) {
                const Probe *p = probe_table[i];

                printf("%s  [%s, %s]\n", p->id, p->component, tee_label(p));
                printf("    reads:  %s\n", p->reads);
                printf("    passes: %s\n", p->rule);
                printf("    remedy: %s%s\n", p->remedy, p->reboot ? " (needs a reboot)" : "");
        }
        return 0;
}

static int verb_capture(int argc, char *argv[]) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_free_ char *detail = NULL;
        int r;

        if (argc > 1)
                return log_error_errno(-EINVAL, "capture takes no arguments, got \"%s\"", argv[1]);
        if (!arg_output)
                return log_error_errno(-EINVAL, "capture needs --output DIR");
        r = open_host(&h);
        if (r < 0)
                return r;
        r = capture_host(h, arg_tee, arg_output, &detail);
        if (r == -EEXIST)
                return log_error_errno(r, "%s exists; capture writes only into a new directory", arg_output);
        if (r < 0)
                return log_error_errno(r, "Capture failed at %s: %m", detail ? detail : arg_output);
        fprintf(stderr, "Captured %s into %s; replay with: cchostctl --root %s check\n", arg_root, arg_output,
                arg_output);
        return 0;
}

static int verb_plan(int argc, char *argv[]) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_(report_freep) Report *report = NULL;
        _cleanup_free_ char *error = NULL;
        Plan plan = {};
        int r;

        if (argc > 1)
                return log_error_errno(-EINVAL, "plan takes no arguments, got \"%s\"", argv[1]);
        r = open_host(&h);
        if (r < 0)
                return r;
        r = plan_host(h, arg_tee, arg_config, &plan, &report, &error);
        if (r < 0)
                return log_error_errno(r, "%s", error ? error : "Planning failed: %m");
        if (arg_json) {
                _cleanup_(json_object_putp) json_object *o = plan_to_json(&plan);

                if (o) {
                        json_object_object_add(o, "root", json_object_new_string(report->root));
                        json_object_object_add(o, "tee", json_object_new_string(tee_to_string(report->tee)));
                        json_object_object_add(o, "ready", json_object_new_boolean(report_ready(report)));
                        print_json(o);
                }
        } else
                plan_print_text(&plan, stdout);
        plan_done(&plan);
        return 0;
}

static int verb_provision(int argc, char *argv[]) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_free_ char *error = NULL;
        ProvisionOptions o = {
                .tee = arg_tee,
                .dry_run = arg_dry_run,
                .reboot = arg_reboot,
                .resume = arg_resume,
                .config_path = arg_config,
        };
        int r;

        if (argc > 1)
                return log_error_errno(-EINVAL, "provision takes no arguments, got \"%s\"", argv[1]);
        r = open_host(&h);
        if (r < 0)
                return r;
        r = provision(h, &o, stdout, &error);
        if (r < 0)
                return log_error_errno(r, "Provisioning failed: %s", error ? error : "%m");
        return r;
}

static const struct {
        const char *name;
        int (*run)(int argc, char *argv[]);
} verbs[] = {
        { "check", verb_check },
        { "list-checks", verb_list_checks },
        { "capture", verb_capture },
        { "plan", verb_plan },
        { "provision", verb_provision },
        { "baseline", verb_baseline },
        { "certs", verb_certs },
        { "microcode", verb_microcode },
        { "harden", verb_harden },
        { "report", verb_report },
        { "disk", verb_disk },
};

int main(int argc, char *argv[]) {
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_ERROR : 0;
        if (optind >= argc) {
                log_error("No verb given; see cchostctl --help");
                return EXIT_ERROR;
        }
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(argv[optind], verbs[i].name)) {
                        r = verbs[i].run(argc - optind, argv + optind);
                        return r < 0 ? EXIT_ERROR : r;
                }
        log_error("Unknown verb \"%s\"; see cchostctl --help", argv[optind]);
        return EXIT_ERROR;
}
