/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "capture.h"
#include "config.h"
#include "build-config.h"
#include "engine.h"
#include "log.h"
#include "probe.h"
#include "provision.h"
#include "cli.h"
#include "strv.h"
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
char **arg_unlock_key_files = NULL; /* --unlock-key-file, multi-valued */
const char *arg_escrow_key = NULL;
bool arg_tpm2 = false;
bool arg_volume_key = false;
bool arg_recovery_key = true;
bool arg_print_recovery_key = false;
bool arg_due = false;
const char *arg_bus_address = NULL;

/*
 * The options. Each verb names the ones it honours (Verb.options); any other one on its command line is
 * refused before anything runs, so that an option is never silently ignored. An option that takes a
 * value may be given once.
 */
typedef enum Option {
        OPT_HELP,
        OPT_VERSION,
        OPT_ROOT,
        OPT_JSON,
        OPT_TEE,
        OPT_LIBVIRT_URI,
        OPT_NO_COLOR,
        OPT_MARKDOWN,
        OPT_OUTPUT,
        OPT_VERBOSE,
        OPT_CONFIG,
        OPT_DRY_RUN,
        OPT_REBOOT,
        OPT_RESUME,
        OPT_TDX,
        OPT_SNP,
        OPT_PROFILE,
        OPT_FORMAT,
        OPT_TCTI,
        OPT_PCRS,
        OPT_UNLOCK_KEY_FILE,
        OPT_TPM2,
        OPT_VOLUME_KEY,
        OPT_NO_RECOVERY_KEY,
        OPT_PRINT_RECOVERY_KEY,
        OPT_ESCROW_KEY,
        OPT_DUE,
        OPT_BUS_ADDRESS,
        _OPT_MAX,
} Option;

static const struct option options[] = {
        [OPT_HELP] = { "help", no_argument, NULL, 'h' },
        [OPT_VERSION] = { "version", no_argument, NULL, 0x100 + OPT_VERSION },
        [OPT_ROOT] = { "root", required_argument, NULL, 'r' },
        [OPT_JSON] = { "json", no_argument, NULL, 0x100 + OPT_JSON },
        [OPT_TEE] = { "tee", required_argument, NULL, 0x100 + OPT_TEE },
        [OPT_LIBVIRT_URI] = { "libvirt-uri", required_argument, NULL, 0x100 + OPT_LIBVIRT_URI },
        [OPT_NO_COLOR] = { "no-color", no_argument, NULL, 0x100 + OPT_NO_COLOR },
        [OPT_MARKDOWN] = { "markdown", no_argument, NULL, 0x100 + OPT_MARKDOWN },
        [OPT_OUTPUT] = { "output", required_argument, NULL, 'o' },
        [OPT_VERBOSE] = { "verbose", no_argument, NULL, 'v' },
        [OPT_CONFIG] = { "config", required_argument, NULL, 0x100 + OPT_CONFIG },
        [OPT_DRY_RUN] = { "dry-run", no_argument, NULL, 0x100 + OPT_DRY_RUN },
        [OPT_REBOOT] = { "reboot", no_argument, NULL, 0x100 + OPT_REBOOT },
        [OPT_RESUME] = { "resume", no_argument, NULL, 0x100 + OPT_RESUME },
        [OPT_TDX] = { "tdx", required_argument, NULL, 0x100 + OPT_TDX },
        [OPT_SNP] = { "snp", required_argument, NULL, 0x100 + OPT_SNP },
        [OPT_PROFILE] = { "profile", required_argument, NULL, 0x100 + OPT_PROFILE },
        [OPT_FORMAT] = { "format", required_argument, NULL, 0x100 + OPT_FORMAT },
        [OPT_TCTI] = { "tcti", required_argument, NULL, 0x100 + OPT_TCTI },
        [OPT_PCRS] = { "pcrs", required_argument, NULL, 0x100 + OPT_PCRS },
        [OPT_UNLOCK_KEY_FILE] = { "unlock-key-file", required_argument, NULL, 0x100 + OPT_UNLOCK_KEY_FILE },
        [OPT_TPM2] = { "tpm2", no_argument, NULL, 0x100 + OPT_TPM2 },
        [OPT_VOLUME_KEY] = { "volume-key", no_argument, NULL, 0x100 + OPT_VOLUME_KEY },
        [OPT_NO_RECOVERY_KEY] = { "no-recovery-key", no_argument, NULL, 0x100 + OPT_NO_RECOVERY_KEY },
        [OPT_PRINT_RECOVERY_KEY] = { "print-recovery-key", no_argument, NULL, 0x100 + OPT_PRINT_RECOVERY_KEY },
        [OPT_ESCROW_KEY] = { "escrow-key", required_argument, NULL, 0x100 + OPT_ESCROW_KEY },
        [OPT_DUE] = { "due", no_argument, NULL, 0x100 + OPT_DUE },
        [OPT_BUS_ADDRESS] = { "bus-address", required_argument, NULL, 0x100 + OPT_BUS_ADDRESS },
        [_OPT_MAX] = {},
};

/* The help line of each option: how it is written, then what it does (continuation lines indented). */
static const char *const option_help[_OPT_MAX][2] = {
        [OPT_HELP] = { "-h --help", "Show this help (after a verb: that verb's help)" },
        [OPT_VERSION] = { "   --version", "Show the version and the libraries compiled in" },
        [OPT_ROOT] = { "-r --root=DIR", "Look at the host tree under DIR instead of / (a capture or\n"
                                        "a fixture host); registers come from DIR/.cchost/capture.json\n"
                                        "unless DIR/dev/cpu/N/{cpuid,msr} are character devices" },
        [OPT_JSON] = { "   --json", "Print JSON instead of text" },
        [OPT_TEE] = { "   --tee=auto|snp|tdx", "Which TEE to check (default: from the CPU vendor)" },
        [OPT_LIBVIRT_URI] = { "   --libvirt-uri=URI", "libvirt connection for the domain capabilities\n"
                                                      "(default qemu:///system)" },
        [OPT_NO_COLOR] = { "   --no-color", "Never colour the output (colour is used only on a terminal)" },
        [OPT_MARKDOWN] = { "   --markdown", "Print a Markdown table" },
        [OPT_OUTPUT] = { "-o --output=PATH", "capture: the new directory to write the capture tree into;\n"
                                             "report compliance: the file to write the report to (default\n"
                                             "stdout); report metrics: the textfile (default\n"
                                             "daemon.metrics_path under the root)" },
        [OPT_VERBOSE] = { "-v --verbose", "Log debug messages to stderr" },
        [OPT_CONFIG] = { "   --config=FILE", "Configuration file on this machine (default: under\n"
                                             "the root, /etc/cchost/cchost.yaml); it must exist" },
        [OPT_DRY_RUN] = { "   --dry-run", "Print what would change, change nothing" },
        [OPT_REBOOT] = { "   --reboot", "Reboot when the changes need it" },
        [OPT_RESUME] = { "   --resume", "Continue an interrupted run" },
        [OPT_TDX] = { "   --tdx=BUNDLE", "Intel PCCS collateral to import (file or directory)" },
        [OPT_SNP] = { "   --snp=BUNDLE", "AMD certificate chain and VCEK/VLEK to import" },
        [OPT_PROFILE] = { "   --profile=FILE", "Hardening profile (default: /etc/cchost/profile.d/cc-host.yaml\n"
                                               "under the root, else the installed cc-host.yaml)" },
        [OPT_FORMAT] = { "   --format=FORMAT", "json, xccdf (XCCDF 1.2 results) or text" },
        [OPT_TCTI] = { "   --tcti=STRING", "TPM2 TCTI (default: tpm.tcti in the configuration, or\n"
                                           "device:/dev/tpmrm0), e.g. swtpm:host=127.0.0.1,port=2321" },
        [OPT_PCRS] = { "   --pcrs=LIST", "PCRs to bind, e.g. 7 or 7+11" },
        [OPT_UNLOCK_KEY_FILE] = { "   --unlock-key-file=FILE", "An existing passphrase (enroll; stdin without it) or\n"
                                                               "the recovery passphrase (reseal, rotate); FILE may be the\n"
                                                               "JSON an escrow file decrypts to. Repeatable with disk\n"
                                                               "rotate --volume-key: one FILE per keyslot to keep" },
        [OPT_TPM2] = { "   --tpm2", "Bind to the TPM2" },
        [OPT_VOLUME_KEY] = { "   --volume-key", "Rotate the volume key (re-encrypts the data)" },
        [OPT_NO_RECOVERY_KEY] = { "   --no-recovery-key", "Do not add a recovery keyslot" },
        [OPT_PRINT_RECOVERY_KEY] = { "   --print-recovery-key", "Print the recovery passphrase on stdout" },
        [OPT_ESCROW_KEY] = { "   --escrow-key=KEY.pem", "The escrow service's private key: disk recover, and disk\n"
                                                         "rotate --volume-key (keeps the escrowed recovery keyslots)" },
        [OPT_DUE] = { "   --due", "disk rotate: every configured device whose rotation is due\n"
                                  "(fde.rotation in the configuration)" },
        [OPT_BUS_ADDRESS] = { "   --bus-address=ADDR", "status, monitor: talk to cchostd on this bus (e.g.\n"
                                                       "unix:path=/run/x) instead of the system bus" },
};

#define O(x) (UINT32_C(1) << OPT_##x)
/* What every verb accepts. */
#define OPTS_COMMON (O(HELP) | O(ROOT) | O(NO_COLOR) | O(VERBOSE))
#define OPTS_HOST (O(CONFIG) | O(TEE) | O(LIBVIRT_URI))
#define OPTS_FDE (O(CONFIG) | O(TCTI))

typedef enum VerbFlags {
        VERB_MUTATING = 1 << 0, /* changes the host, a device or a file */
        VERB_DRY_RUN = 1 << 1,  /* plans with --dry-run and changes nothing */
} VerbFlags;

static int verb_check(int argc, char *argv[]);
static int verb_list_checks(int argc, char *argv[]);
static int verb_capture(int argc, char *argv[]);
static int verb_plan(int argc, char *argv[]);
static int verb_provision(int argc, char *argv[]);

/*
 * One line a verb and sub-verb: what --help shows and what the README's usage block lists (checked by
 * tests/readme_checks.py). run() is called with argv starting at the verb.
 */
typedef struct Verb {
        const char *name;
        const char *sub;     /* NULL: the verb has no sub-verbs */
        const char *usage;   /* the command line after "cchostctl " */
        const char *summary; /* what it does, lines of at most 76 columns */
        uint32_t options;    /* the options it honours besides OPTS_COMMON */
        VerbFlags flags;
        int (*run)(int argc, char *argv[]);
} Verb;

static const Verb verbs[] = {
        { "check", NULL, "[--root DIR] [--config FILE] [--json] [--tee auto|snp|tdx] [--libvirt-uri URI] check",
          "Run every check for the host's TEE and print the verdict (--json: schema\n"
          "cchost.check/v1)",
          OPTS_HOST | O(JSON), 0, verb_check },
        { "list-checks", NULL, "[--json | --markdown] list-checks [ID...]",
          "List the checks (or those named): id, what each reads, pass rule, remedy", O(JSON) | O(MARKDOWN), 0,
          verb_list_checks },
        { "capture", NULL, "[--root DIR] [--config FILE] [--tee auto|snp|tdx] [--libvirt-uri URI] capture --output DIR",
          "Copy everything the checks read (files, registers, ioctl answers) into the new\n"
          "directory DIR; --root DIR replays it exactly",
          OPTS_HOST | O(OUTPUT), VERB_MUTATING, verb_capture },
        { "plan", NULL, "[--root DIR] [--config FILE] [--json] [--tee auto|snp|tdx] [--libvirt-uri URI] plan",
          "Show what provision would change to fix the failing checks, with a diff of every\n"
          "file edit",
          OPTS_HOST | O(JSON), 0, verb_plan },
        { "provision", NULL, "[--root DIR] [--config FILE] [--tee auto|snp|tdx] [--libvirt-uri URI] provision [--dry-run] [--reboot] [--resume]",
          "Apply the plan, journaled in /var/lib/cchost/journal/provision.json, with at\n"
          "most one reboot, then verify",
          OPTS_HOST | O(DRY_RUN) | O(REBOOT) | O(RESUME), VERB_MUTATING | VERB_DRY_RUN, verb_provision },
        { "baseline", "verify", "[--root DIR] [--config FILE] [--json] baseline verify [FILE [SIG]]",
          "Verify a certified baseline (default: the installed one) against the service's\n"
          "public key, and say whether it certifies this node",
          O(CONFIG) | O(JSON), 0, verb_baseline },
        { "baseline", "show", "[--root DIR] [--config FILE] [--json] baseline show",
          "Print the installed, verified baseline and this node's entry", O(CONFIG) | O(JSON), 0, verb_baseline },
        { "baseline", "install", "[--root DIR] [--config FILE] baseline install [--dry-run] FILE [SIG]",
          "Verify FILE (signature SIG, default FILE.sig), then install both",
          O(CONFIG) | O(DRY_RUN), VERB_MUTATING | VERB_DRY_RUN, verb_baseline },
        { "certs", "import", "[--root DIR] [--config FILE] [--json] certs import [--dry-run] --tdx BUNDLE | --snp BUNDLE",
          "Verify attestation collateral and install it in the cache",
          O(CONFIG) | O(JSON) | O(DRY_RUN) | O(TDX) | O(SNP), VERB_MUTATING | VERB_DRY_RUN, verb_certs },
        { "certs", "fetch", "[--root DIR] [--config FILE] [--json] certs fetch [--dry-run]",
          "Fetch this chip's VCEK and its chain from AMD KDS (only with snp.kds.enabled),\n"
          "verify them and install them in the cache",
          O(CONFIG) | O(JSON) | O(DRY_RUN), VERB_MUTATING | VERB_DRY_RUN, verb_certs },
        { "certs", "show", "[--root DIR] [--json] certs show", "List the cached collateral, its validity and TCB",
          O(JSON), 0, verb_certs },
        { "microcode", "verify", "[--json] microcode verify FILE...",
          "Check Intel microcode files or AMD containers (headers, checksums, sizes,\n"
          "signature tables) and show what they hold",
          O(JSON), 0, verb_microcode },
        { "microcode", "install", "[--root DIR] [--config FILE] [--tee auto|snp|tdx] [--libvirt-uri URI] microcode install [--dry-run] [--reboot] [--resume] [FILE]",
          "Install the baseline's certified microcode for this CPU (FILE, or the copy staged\n"
          "in /var/lib/cchost/firmware/): SHA-256 checked, journaled, initramfs refreshed;\n"
          "late-loaded when firmware.late_load and the minimum-revision rule allow, else at\n"
          "the next reboot",
          OPTS_HOST | O(DRY_RUN) | O(REBOOT) | O(RESUME), VERB_MUTATING | VERB_DRY_RUN, verb_microcode },
        { "harden", "check", "[--root DIR] [--profile FILE] [--json] harden check",
          "Check the hardened host profile (every rule a finding; waivers from\n"
          "the root's /etc/cchost/waivers.yaml)",
          O(PROFILE) | O(JSON), 0, verb_harden },
        { "harden", "enforce", "[--root DIR] [--profile FILE] [--json] harden enforce [--dry-run] [--resume]",
          "Apply the profile's remediations (--dry-run: plan only), journaled in the\n"
          "root's /var/lib/cchost/journal/harden-enforce.json; --resume continues an\n"
          "interrupted run",
          O(PROFILE) | O(JSON) | O(DRY_RUN) | O(RESUME), VERB_MUTATING | VERB_DRY_RUN, verb_harden },
        { "harden", "drift", "[--root DIR] [--profile FILE] [--json] harden drift", "What changed since the last enforce",
          O(PROFILE) | O(JSON), 0, verb_harden },
        { "report", "compliance", "[--root DIR] [--profile FILE] [--json] report compliance [--format json|xccdf|text] [--output FILE]",
          "Compliance report of the hardened profile; exit 0 when every rule passes, 1 when\n"
          "one fails",
          O(PROFILE) | O(JSON) | O(FORMAT) | O(OUTPUT), VERB_MUTATING, verb_report },
        { "report", "capacity", "[--root DIR] [--config FILE] [--json] [--tee auto|snp|tdx] report capacity",
          "CVM slots of this node: the TEE, memory and CPU terms and the one that binds\n"
          "(--json: schema cchost.capacity/v1)",
          O(CONFIG) | O(JSON) | O(TEE), 0, verb_report_capacity },
        { "report", "metrics", "[--root DIR] [--config FILE] [--profile FILE] [--tee auto|snp|tdx] [--libvirt-uri URI] report metrics [--dry-run] [--output FILE]",
          "Write the Prometheus node_exporter textfile (daemon.metrics_path under the root,\n"
          "default /var/lib/prometheus/node-exporter/cchost.prom; --output: FILE) atomically;\n"
          "--dry-run prints it",
          OPTS_HOST | O(PROFILE) | O(OUTPUT) | O(DRY_RUN), VERB_MUTATING | VERB_DRY_RUN, verb_report },
        { "disk", "status", "[--root DIR] [--config FILE] [--tcti TCTI] [--json] disk status [DEVICE...]",
          "LUKS2 state of each device or image: cipher, keyslots and their PBKDF, tokens,\n"
          "TPM2 binding, recovery slot, reencryption",
          OPTS_FDE | O(JSON), 0, verb_disk },
        { "disk", "enroll", "[--root DIR] [--config FILE] [--tcti TCTI] disk enroll DEVICE --tpm2 [--pcrs LIST] [--unlock-key-file FILE] [--no-recovery-key] [--print-recovery-key]",
          "Seal a new key in the TPM (PolicyPCR), add its keyslot and a systemd-tpm2 token,\n"
          "and a recovery keyslot escrowed with CMS (no --dry-run)",
          OPTS_FDE | O(PCRS) | O(UNLOCK_KEY_FILE) | O(TPM2) | O(NO_RECOVERY_KEY) | O(PRINT_RECOVERY_KEY),
          VERB_MUTATING, verb_disk },
        { "disk", "rotate", "[--root DIR] [--config FILE] [--tcti TCTI] disk rotate DEVICE | --due [--dry-run] [--volume-key] [--pcrs LIST] [--unlock-key-file FILE...] [--escrow-key KEY.pem]",
          "Replace the TPM keyslots (safe order), or re-encrypt the data under a new volume\n"
          "key (offline, checksum resilience; every other keyslot is opened by a key file or\n"
          "the escrow key and kept); --due: every configured device whose rotation the\n"
          "fde.rotation policy says is due (--dry-run, only with --due: list them)",
          OPTS_FDE | O(PCRS) | O(UNLOCK_KEY_FILE) | O(VOLUME_KEY) | O(ESCROW_KEY) | O(DUE) | O(DRY_RUN),
          VERB_MUTATING | VERB_DRY_RUN, verb_disk },
        { "disk", "reseal", "[--root DIR] [--config FILE] [--tcti TCTI] disk reseal DEVICE --unlock-key-file RECOVERY [--pcrs LIST]",
          "Re-bind the TPM keyslots to the current PCRs, authorised by the recovery\n"
          "passphrase (no --dry-run)",
          OPTS_FDE | O(PCRS) | O(UNLOCK_KEY_FILE), VERB_MUTATING, verb_disk },
        { "disk", "recover", "disk recover --escrow-key KEY.pem FILE.p7m [--output FILE]",
          "Decrypt an escrowed recovery passphrase: print it (or write it to FILE, a new file\n"
          "of mode 0600) and the volume UUID and keyslot it opens (no --dry-run)",
          O(ESCROW_KEY) | O(OUTPUT), VERB_MUTATING, verb_disk },
        { "kube", "preflight", "[--root DIR] [--config FILE] [--json] kube preflight",
          "Check that the cluster of the kube: configuration can be joined (token discovery:\n"
          "the JWS over cluster-info, the CA pin, the server's chain); exit 1 with the reason\n"
          "when it cannot (--json: schema cchost.kube-preflight/v1)",
          O(CONFIG) | O(JSON), 0, verb_kube_preflight },
        { "status", NULL, "[--json] [--bus-address ADDR] status",
          "Ask cchostd on the system bus for the node: readiness, TEE, failed checks\n"
          "and remedies, compliance, disk encryption, key rotation, CVM slots (--json:\n"
          "schema cchost.node/v1); exit 2 when the daemon is not running",
          O(JSON) | O(BUS_ADDRESS), 0, verb_status },
        { "monitor", NULL, "[--bus-address ADDR] monitor",
          "Follow cchostd's HealthChanged, JobFinished and PropertiesChanged signals,\n"
          "one line per event with a timestamp, until SIGINT or SIGTERM",
          O(BUS_ADDRESS), 0, verb_monitor },
};

/* Prints text with every line after the first indented by indent columns. */
static void print_indented(const char *text, int indent) {
        for (const char *s = text; *s; s++) {
                fputc(*s, stdout);
                if (*s == '\n')
                        printf("%*s", indent, "");
        }
}

static void print_option(Option i) {
        int n = printf("  %s", option_help[i][0]);

        if (n > 24) {
                printf("\n%*s", 24, "");
                n = 24;
        }
        printf("%*s", 24 - n, "");
        print_indented(option_help[i][1], 24);
        putchar('\n');
}

static void help(void) {
        printf("cchostctl [OPTIONS...] VERB [ARGS...]\n"
               "\n"
               "Checks that a bare-metal host is ready to run confidential VMs (AMD SEV-SNP or\n"
               "Intel TDX): CPU, BIOS settings (MSRs), kernel, PSP/TDX firmware, KVM, libvirt, QEMU.\n"
               "\n"
               "Verbs (cchostctl VERB [SUB-VERB] --help shows the options of each):\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                printf("  %s%s%s\n      ", verbs[i].name, verbs[i].sub ? " " : "", strempty(verbs[i].sub));
                print_indented(verbs[i].summary, 6);
                putchar('\n');
        }
        printf("\nOptions:\n");
        for (Option i = 0; i < _OPT_MAX; i++)
                print_option(i);
        printf("\nA path given on the command line (--config, --profile, --output, --tdx, --snp,\n"
               "--unlock-key-file, FILE and DEVICE arguments) is a path on this machine, never under\n"
               "--root; a relative one is relative to the current directory.\n"
               "\nExit status: 0 ready, 1 not ready (a check failed or could not be decided),\n"
               "2 usage or runtime error.\n");
}

static void verb_help(const Verb *v) {
        printf("usage: cchostctl %s\n\n", v->usage);
        print_indented(v->summary, 0);
        printf("\n\nOptions:\n");
        for (Option i = 0; i < _OPT_MAX; i++)
                if ((v->options | OPTS_COMMON) & (UINT32_C(1) << i))
                        print_option(i);
        if (v->flags & VERB_MUTATING && !(v->flags & VERB_DRY_RUN))
                printf("\n--dry-run is refused: this verb cannot show its changes without making them.\n");
}

static const char *verb_display_name(const Verb *v, char *buf, size_t size) {
        snprintf(buf, size, "%s%s%s", v->name, v->sub ? " " : "", strempty(v->sub));
        return buf;
}

/* The verb (and sub-verb) that argv names, or NULL; *ret_family is set when only the verb is known. */
static const Verb *find_verb(int argc, char *argv[], bool *ret_family) {
        *ret_family = false;
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                if (!streq(argv[0], verbs[i].name))
                        continue;
                *ret_family = true;
                if (!verbs[i].sub || (argc > 1 && streq(argv[1], verbs[i].sub)))
                        return verbs + i;
        }
        return NULL;
}

static void family_help(const char *name) {
        printf("usage:\n");
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (streq(verbs[i].name, name))
                        printf("  cchostctl %s\n", verbs[i].usage);
        printf("\ncchostctl %s SUB-VERB --help shows the options of each.\n", name);
}

static bool arg_help = false;
static uint32_t arg_seen = 0; /* the OPT_* given */

static int parse_argv(int argc, char *argv[]) {
        int c;

        while ((c = getopt_long(argc, argv, "hr:o:v", options, NULL)) >= 0) {
                Option opt;

                switch (c) {
                case 'h':
                        opt = OPT_HELP;
                        break;
                case 'r':
                        opt = OPT_ROOT;
                        break;
                case 'o':
                        opt = OPT_OUTPUT;
                        break;
                case 'v':
                        opt = OPT_VERBOSE;
                        break;
                default:
                        if (c < 0x100 || c >= 0x100 + _OPT_MAX)
                                return -EINVAL; /* getopt said why */
                        opt = c - 0x100;
                }
                /* a value given twice is a mistake on one side or the other: never let the last one win
                 * (--unlock-key-file alone is multi-valued: each FILE opens one keyslot) */
                if (options[opt].has_arg == required_argument && opt != OPT_UNLOCK_KEY_FILE &&
                    (arg_seen & (UINT32_C(1) << opt))) {
                        log_error("--%s given twice", options[opt].name);
                        return -EINVAL;
                }
                arg_seen |= UINT32_C(1) << opt;

                switch (opt) {
                case OPT_HELP:
                        arg_help = true;
                        break;
                case OPT_VERSION:
                        printf("cchostctl %s\n%s\n", PACKAGE_VERSION, CCHOST_FEATURES);
                        return 0;
                case OPT_ROOT:
                        arg_root = optarg;
                        break;
                case OPT_JSON:
                        arg_json = true;
                        break;
                case OPT_TEE:
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
                case OPT_LIBVIRT_URI:
                        arg_libvirt_uri = optarg;
                        break;
                case OPT_NO_COLOR:
                        arg_color = 0;
                        break;
                case OPT_MARKDOWN:
                        arg_markdown = true;
                        break;
                case OPT_OUTPUT:
                        arg_output = optarg;
                        break;
                case OPT_VERBOSE:
                        log_set_max_level(LOG_DEBUG);
                        break;
                case OPT_CONFIG:
                        arg_config = optarg;
                        break;
                case OPT_DRY_RUN:
                        arg_dry_run = true;
                        break;
                case OPT_REBOOT:
                        arg_reboot = true;
                        break;
                case OPT_RESUME:
                        arg_resume = true;
                        break;
                case OPT_TDX:
                        arg_tdx_bundle = optarg;
                        break;
                case OPT_SNP:
                        arg_snp_bundle = optarg;
                        break;
                case OPT_PROFILE:
                        arg_profile = optarg;
                        break;
                case OPT_FORMAT:
                        arg_format = optarg;
                        break;
                case OPT_TCTI:
                        arg_tcti = optarg;
                        break;
                case OPT_PCRS:
                        if (tpm2_parse_pcr_list(optarg, &arg_pcr_mask) < 0) {
                                log_error("--pcrs: expected PCR numbers 0..23 joined by + or \",\", got \"%s\"", optarg);
                                return -EINVAL;
                        }
                        break;
                case OPT_UNLOCK_KEY_FILE:
                        if (strv_extend(&arg_unlock_key_files, optarg) < 0)
                                return log_error_errno(-ENOMEM, "Out of memory");
                        break;
                case OPT_TPM2:
                        arg_tpm2 = true;
                        break;
                case OPT_VOLUME_KEY:
                        arg_volume_key = true;
                        break;
                case OPT_NO_RECOVERY_KEY:
                        arg_recovery_key = false;
                        break;
                case OPT_PRINT_RECOVERY_KEY:
                        arg_print_recovery_key = true;
                        break;
                case OPT_ESCROW_KEY:
                        arg_escrow_key = optarg;
                        break;
                case OPT_DUE:
                        arg_due = true;
                        break;
                case OPT_BUS_ADDRESS:
                        arg_bus_address = optarg;
                        break;
                default:
                        return -EINVAL;
                }
        }
        return 1;
}

/* Refuses, before anything runs, the options v does not honour; 0 when all are fine. */
static int verb_check_options(const Verb *v) {
        char name[64];
        uint32_t extra = arg_seen & ~(v->options | OPTS_COMMON);

        (void) verb_display_name(v, name, sizeof(name));
        if ((arg_seen & O(DRY_RUN)) && (v->flags & VERB_MUTATING) && !(v->flags & VERB_DRY_RUN))
                return log_error_errno(-EINVAL, "%s does not honour --dry-run (it cannot show its changes without "
                                       "making them); nothing was changed", name);
        /* a verb that changes nothing honours --dry-run by nature */
        if (!(v->flags & VERB_MUTATING))
                extra &= ~O(DRY_RUN);
        for (Option i = 0; i < _OPT_MAX; i++)
                if (extra & (UINT32_C(1) << i))
                        return log_error_errno(-EINVAL, "--%s does not apply to %s; see cchostctl %s --help",
                                               options[i].name, name, name);
        return 0;
}

int open_host(Host **ret) {
        HostOptions o = { .root = arg_root, .libvirt_uri = arg_libvirt_uri, .config_path = arg_config };
        int r;

        r = host_new(&o, ret);
        if (r < 0)
                return log_error_errno(r, "Cannot use %s as the host root: %m", arg_root);
        if (arg_config) {
                /* a file the operator named must be there and valid, whichever verb reads it (or not) */
                _cleanup_free_ char *error = NULL;
                Config c;

                r = config_load(*ret, NULL, &c, &error);
                if (r < 0) {
                        *ret = host_free(*ret);
                        return log_error_errno(r, "%s", error ?: "Cannot read the configuration: %m");
                }
                config_done(&c);
        }
        return 0;
}

void print_json(json_object *o) {
        puts(json_object_to_json_string_ext(json_sanitize_utf8(o), JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
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
        _cleanup_free_ bool *listed = NULL;

        /* list-checks ID...: only those checks, in table order; an unknown id lists nothing */
        listed = calloc(probe_table_size + 1, sizeof(bool));
        if (!listed)
                return log_error_errno(-ENOMEM, "Out of memory");
        for (size_t i = 0; i < probe_table_size; i++)
                listed[i] = argc <= 1;
        for (int k = 1; k < argc; k++) {
                size_t i;

                for (i = 0; i < probe_table_size && !streq(probe_table[i]->id, argv[k]); i++)
                        ;
                if (i == probe_table_size)
                        return log_error_errno(-EINVAL, "No check has the id \"%s\"; cchostctl list-checks lists them",
                                               argv[k]);
                listed[i] = true;
        }

        if (arg_json) {
                _cleanup_(json_object_putp) json_object *doc = json_object_new_object();
                json_object *a = json_object_new_array();

                if (!doc || !a) {
                        json_object_put(a);
                        return log_error_errno(-ENOMEM, "Out of memory");
                }
                json_object_object_add(doc, "schema", json_object_new_string("cchost.checks/v1"));
                json_object_object_add(doc, "checks", a);

                for (size_t i = 0; i < probe_table_size; i++) {
                        const Probe *p = probe_table[i];
                        json_object *o;

                        if (!listed[i])
                                continue;
                        o = json_object_new_object();
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
                print_json(doc);
                return 0;
        }

        if (arg_markdown) {
                puts("| id | TEE | depends on | reads | passes when | remedy |");
                puts("|---|---|---|---|---|---|");
                for (size_t i = 0; i < probe_table_size; i++) {
                        const Probe *p = probe_table[i];

                        if (!listed[i])
                                continue;
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

                if (!listed[i])
                        continue;
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
        _cleanup_free_ char *error = NULL, *journal = NULL;
        Plan plan = {};
        int r;

        if (argc > 1)
                return log_error_errno(-EINVAL, "plan takes no arguments, got \"%s\"", argv[1]);
        r = open_host(&h);
        if (r < 0)
                return r;
        r = plan_host(h, arg_tee, arg_config, &plan, &report, &journal, &error);
        if (r < 0)
                return error ? log_error_errno(r, "%s", error) : log_error_errno(r, "Planning failed: %m");
        if (arg_json) {
                _cleanup_(json_object_putp) json_object *o = plan_document_to_json(&plan, report, journal);

                if (o)
                        print_json(o);
        } else if (journal)
                plan_print_journal_text(journal, &plan, stdout);
        else
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
                return error ? log_error_errno(r, "Provisioning failed: %s", error)
                             : log_error_errno(r, "Provisioning failed: %m");
        return r;
}

int main(int argc, char *argv[]) {
        const Verb *v;
        bool family;
        int r;

        r = parse_argv(argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_ERROR : 0;
#if CCHOST_TEST_HOOKS
        if (test_hooks_from_env() < 0)
                return EXIT_ERROR;
#endif
        if (optind >= argc) {
                if (arg_help) {
                        help();
                        return 0;
                }
                log_error("No verb given; see cchostctl --help");
                return EXIT_ERROR;
        }
        v = find_verb(argc - optind, argv + optind, &family);
        if (!v && family && arg_help) {
                family_help(argv[optind]);
                return 0;
        }
        if (!v && family) {
                char subs[256] = "";

                for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                        if (streq(verbs[i].name, argv[optind]))
                                snprintf(subs + strlen(subs), sizeof(subs) - strlen(subs), "%s%s", subs[0] ? " | " : "",
                                         verbs[i].sub);
                if (optind + 1 < argc)
                        log_error("Unknown sub-verb \"%s\"; usage: cchostctl %s %s (see cchostctl %s --help)",
                                  argv[optind + 1], argv[optind], subs, argv[optind]);
                else
                        log_error("No sub-verb given; usage: cchostctl %s %s (see cchostctl %s --help)", argv[optind],
                                  subs, argv[optind]);
                return EXIT_ERROR;
        }
        if (!v) {
                log_error("Unknown verb \"%s\"; see cchostctl --help", argv[optind]);
                return EXIT_ERROR;
        }
        if (arg_help) {
                verb_help(v);
                return 0;
        }
        r = verb_check_options(v);
        if (r < 0)
                return EXIT_ERROR;
        r = v->run(argc - optind, argv + optind);
        return r < 0 ? EXIT_ERROR : r;
}
