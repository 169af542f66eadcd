/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <inttypes.h>
#include <stdio.h>

#include "cli.h"
#include "log.h"
#include "macro.h"
#include "action.h"
#include "baseline.h"
#include "config.h"
#include "microcode.h"
#include "parse-util.h"
#include "provision.h"
#include "time-util.h"

/*
 * cchostctl microcode SUBVERB: "verify FILE..." parses and checks microcode files given by the
 * operator (paths on the real filesystem, never under --root). One dispatch table for the
 * sub-verbs, so that "install" can join it.
 */

/* Early-initrd blobs concatenate every update for a vendor; the largest are a few MiB. */
#define MICROCODE_FILE_MAX (64U * 1024U * 1024U)

static void print_intel(const char *path, const MicrocodeIntelFile *f) {
        printf("%s: OK (Intel, %zu update%s)\n", path, f->n_updates, f->n_updates == 1 ? "" : "s");
        for (size_t i = 0; i < f->n_updates; i++) {
                const MicrocodeIntelUpdate *u = &f->updates[i];
                char date[16], name[16];

                if (microcode_intel_file_name(u->signature, name, sizeof(name)) < 0)
                        name[0] = 0;
                printf("  revision 0x%08" PRIx32 " signature 0x%" PRIx32 " (%s) platforms 0x%02" PRIx32 " date %s size %" PRIu32,
                       (uint32_t) u->revision, u->signature, name, u->platforms,
                       microcode_format_date(u->date, date, sizeof(date)) ?: "(not a date)", u->total_size);
                if (u->min_req_revision != 0)
                        printf(" min-rev 0x%08" PRIx32, u->min_req_revision);
                for (size_t j = 0; j < u->n_ext; j++)
                        printf("%s0x%" PRIx32 "/0x%02" PRIx32, j == 0 ? " also " : ",", u->ext[j].signature,
                               u->ext[j].platforms);
                putchar('\n');
        }
}

static void print_amd(const char *path, const MicrocodeAmdFile *f) {
        printf("%s: OK (AMD, %u container%s, %zu patch%s)\n", path, f->n_containers, f->n_containers == 1 ? "" : "s",
               f->n_patches, f->n_patches == 1 ? "" : "es");
        for (size_t i = 0; i < f->n_patches; i++) {
                const MicrocodeAmdPatch *p = &f->patches[i];
                char date[16];

                printf("  patch level 0x%08" PRIx32 " equiv 0x%04x family 0x%x date %s size %" PRIu32 " cpus",
                       p->patch_id, p->processor_rev_id, microcode_amd_patch_family(p),
                       microcode_format_date(p->date, date, sizeof(date)) ?: "(not a date)", p->size);
                for (size_t j = 0, n = 0; j < f->n_equiv; j++)
                        if (f->equiv[j].container == p->container && f->equiv[j].equiv_id == p->processor_rev_id)
                                printf("%s0x%08" PRIx32, n++ == 0 ? " " : ",", f->equiv[j].installed_cpu);
                if (p->nb_dev_id || p->sb_dev_id)
                        printf(" (chipset-specific: the kernel skips it)");
                putchar('\n');
        }
}

/* Verifies one file; adds its description to files (if not NULL). 0 if it verified, <0 if refused. */
static int verify_one(const char *path, json_object *files) {
        _cleanup_(microcode_intel_file_freep) MicrocodeIntelFile *intel = NULL;
        _cleanup_(microcode_amd_file_freep) MicrocodeAmdFile *amd = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        _cleanup_free_ char *reason = NULL;
        json_object *o = NULL, *d = NULL;
        MicrocodeFormat format;
        char sha[65];
        size_t size;
        int r;

        if (files) {
                o = json_object_new_object();
                if (!o)
                        return log_error_errno(-ENOMEM, "Out of memory");
                json_object_array_add(files, o);
                json_object_object_add(o, "path", json_object_new_string(path));
                json_object_object_add(o, "ok", json_object_new_boolean(false));
        }

        r = microcode_read_file(path, MICROCODE_FILE_MAX, &buf, &size);
        if (r < 0) {
                if (r == -EFBIG)
                        reason = strdup("larger than 64 MiB, not a microcode file");
                else if (r == -ENOTSUP)
                        reason = strdup("not a regular file");
                else if (asprintf(&reason, "cannot read: %s", strerror(-r)) < 0)
                        reason = NULL;
                if (o)
                        json_object_object_add(o, "error", json_object_new_string(strempty(reason)));
                return reason ? log_error_errno(r, "%s: refused: %s", path, reason)
                              : log_error_errno(r, "%s: refused: cannot read: %m", path);
        }

        format = microcode_detect(buf, size);
        if (format == MICROCODE_UNKNOWN) {
                if (size < 4)
                        reason = strdup(size == 0 ? "the file is empty" : "too short for a microcode file");
                else if (asprintf(&reason,
                                  "not a microcode file: it starts with 0x%08" PRIx32 ", neither the AMD container magic "
                                  "0x%08" PRIx32 " (\"DMA\\0\") nor an Intel update header version 1",
                                  (uint32_t) buf[0] | (uint32_t) buf[1] << 8 | (uint32_t) buf[2] << 16 | (uint32_t) buf[3] << 24,
                                  MICROCODE_AMD_MAGIC) < 0)
                        reason = NULL;
                if (o)
                        json_object_object_add(o, "error", json_object_new_string(strempty(reason)));
                return log_error_errno(-EBADMSG, "%s: refused: %s", path, reason ?: "not a microcode file");
        }
        if (format == MICROCODE_AMD)
                r = microcode_amd_parse(buf, size, &amd, &reason);
        else
                r = microcode_intel_parse(buf, size, &intel, &reason);
        if (o) {
                json_object_object_add(o, "format", json_object_new_string(format == MICROCODE_AMD ? "amd" : "intel"));
                json_object_object_add(o, "size", json_object_new_int64((int64_t) size));
        }
        if (r == -ENOMEM)
                return log_error_errno(r, "Out of memory");
        if (r < 0) {
                if (o)
                        json_object_object_add(o, "error", json_object_new_string(strempty(reason)));
                return log_error_errno(r, "%s: refused (%s microcode): %s", path,
                                       format == MICROCODE_AMD ? "AMD" : "Intel", strempty(reason));
        }

        r = microcode_sha256_hex(buf, size, sha);
        if (r < 0)
                return log_error_errno(r, "%s: cannot compute the SHA-256: %m", path);

        if (!o) {
                if (amd)
                        print_amd(path, amd);
                else
                        print_intel(path, intel);
                printf("  sha256 %s\n", sha);
                return 0;
        }

        d = amd ? microcode_amd_to_json(amd) : microcode_intel_to_json(intel);
        if (!d)
                return log_error_errno(-ENOMEM, "Out of memory");
        json_object_object_add(o, "ok", json_object_new_boolean(true));
        json_object_object_add(o, "sha256", json_object_new_string(sha));
        json_object_object_foreach(d, key, value)
                json_object_object_add(o, key, json_object_get(value));
        json_object_put(d);
        return 0;
}

static int microcode_verify(int argc, char *argv[]) {
        _cleanup_(json_object_putp) json_object *doc = NULL;
        json_object *files = NULL;
        int ret = 0;

        if (argc < 2)
                return log_error_errno(-EINVAL, "usage: cchostctl microcode verify FILE...");

        if (arg_json) {
                doc = json_object_new_object();
                files = json_object_new_array();
                if (!doc || !files) {
                        json_object_put(files);
                        return log_error_errno(-ENOMEM, "Out of memory");
                }
                json_object_object_add(doc, "schema", json_object_new_string("cchost.microcode/v1"));
                json_object_object_add(doc, "files", files);
        }

        for (int i = 1; i < argc; i++) {
                int r = verify_one(argv[i], files);

                if (r == -ENOMEM)
                        return r;
                if (r < 0)
                        ret = EXIT_ERROR;
        }
        if (doc)
                print_json(doc);
        return ret;
}

/* The baseline entry of this node, verified; logs why when there is none. */
static int certified_entry(Host *h, Baseline *b, const BaselinePlatform **ret) {
        _cleanup_(dmi_identity_done) DmiIdentity dmi = {};
        _cleanup_free_ char *error = NULL;
        const CpuIdentity *cpu;
        Config config;
        time_t now;
        int r;

        r = config_load(h, NULL, &config, &error);
        if (r < 0)
                return error ? log_error_errno(r, "%s", error) : log_error_errno(r, "Cannot read the configuration: %m");
        r = clock_now(&now);
        if (r >= 0)
                r = baseline_load(h, &config, now, b, &error);
        config_done(&config);
        if (r < 0)
                return log_error_errno(r, "The certified microcode comes from the baseline: %s",
                                       error ?: "cannot tell the time");
        r = host_cpu_identity(h, &cpu);
        if (r < 0)
                return log_error_errno(r, "Cannot tell which CPU this is: %m");
        dmi_identity_read(h, &dmi);
        *ret = baseline_match(b, cpu, &dmi);
        if (!*ret)
                return log_error_errno(-ENXIO, "Baseline %s does not certify this platform (family 0x%x model 0x%x "
                                       "stepping %u)", b->id, cpu->family, cpu->model, cpu->stepping);
        if (!(*ret)->has_microcode)
                return log_error_errno(-ENXIO, "Baseline %s names no microcode for \"%s\"", b->id, (*ret)->name);
        return 0;
}

/*
 * Checks that an operator's file is the certified one for this CPU: the SHA-256 the baseline names,
 * and an update inside that carries the certified revision for this CPU's signature (and platform).
 */
static int check_certified_file(Host *h, const BaselinePlatform *p, const char *path, const uint8_t *data,
                                size_t size) {
        _cleanup_free_ char *reason = NULL, *want = NULL;
        const CpuIdentity *cpu = NULL;
        char hex[65];
        int r;

        r = microcode_sha256_hex(data, size, hex);
        if (r < 0)
                return log_error_errno(r, "Cannot hash %s: %m", path);
        want = hexmem(p->microcode_sha256, sizeof(p->microcode_sha256));
        if (!want)
                return log_error_errno(-ENOMEM, "Out of memory");
        if (!streq(hex, want))
                return log_error_errno(-EBADMSG, "%s has SHA-256 %s, not the certified %s (%s): refusing it", path, hex,
                                       want, p->microcode_file);
        (void) host_cpu_identity(h, &cpu);
        if (microcode_detect(data, size) == MICROCODE_INTEL) {
                _cleanup_(microcode_intel_file_freep) MicrocodeIntelFile *f = NULL;
                const MicrocodeIntelUpdate *u = NULL;
                uint64_t msr = 0;

                r = microcode_intel_parse(data, size, &f, &reason);
                if (r < 0)
                        return log_error_errno(r, "%s: %s", path, strnull(reason));
                (void) host_rdmsr(h, 0, 0x17, &msr);
                if (cpu && cpu->signature)
                        u = microcode_intel_best(f, cpu->signature, (unsigned) (msr >> 50) & 7);
                if (!u || (uint32_t) u->revision != p->microcode_revision)
                        return log_error_errno(-EBADMSG, "%s holds no update with revision 0x%x for this CPU "
                                               "(signature 0x%x)", path, p->microcode_revision, cpu ? cpu->signature : 0);
        } else if (microcode_detect(data, size) == MICROCODE_AMD) {
                _cleanup_(microcode_amd_file_freep) MicrocodeAmdFile *f = NULL;
                uint32_t level = 0;

                r = microcode_amd_parse(data, size, &f, &reason);
                if (r < 0)
                        return log_error_errno(r, "%s: %s", path, strnull(reason));
                if (!cpu || microcode_amd_matches(f, cpu->signature, &level, NULL) < 0 || level != p->microcode_revision)
                        return log_error_errno(-EBADMSG, "%s holds no patch level 0x%x for this CPU", path,
                                               p->microcode_revision);
        } else
                return log_error_errno(-EBADMSG, "%s is neither an Intel microcode file nor an AMD container", path);
        return 0;
}

/*
 * microcode install [FILE]: FILE (or the copy already staged in /var/lib/cchost/firmware/) must be the
 * baseline's file for this CPU; it is staged and installed by the provisioning engine, journaled, with
 * the initramfs refreshed and a late load or the reboot, as the policy allows.
 */
static int microcode_install(int argc, char *argv[]) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_(baseline_done) Baseline b = {};
        _cleanup_free_ uint8_t *data = NULL;
        _cleanup_free_ char *staged = NULL, *error = NULL;
        char *only[] = { (char *) "firmware.baseline.microcode", NULL };
        const BaselinePlatform *p = NULL;
        ProvisionOptions o = {
                .tee = arg_tee,
                .dry_run = arg_dry_run,
                .reboot = arg_reboot,
                .resume = arg_resume,
                .config_path = arg_config,
                .only = only,
        };
        size_t size;
        int r;

        if (argc > 2)
                return log_error_errno(-EINVAL, "usage: cchostctl microcode install [FILE]");
        r = open_host(&h);
        if (r < 0)
                return r;
        r = certified_entry(h, &b, &p);
        if (r < 0)
                return r;
        if (asprintf(&staged, FIRMWARE_STAGING_DIR "/%s", p->microcode_file) < 0)
                return log_error_errno(-ENOMEM, "Out of memory");
        if (argc == 2) {
                r = microcode_read_file(argv[1], MICROCODE_FILE_MAX, &data, &size);
                if (r < 0)
                        return log_error_errno(r, "Cannot read %s: %m", argv[1]);
                r = check_certified_file(h, p, argv[1], data, size);
                if (r < 0)
                        return r;
                if (arg_dry_run)
                        printf("would stage %s as /%s\n", argv[1], staged);
                /* the engine stages it under the writer lock, then provisions */
                o.stage_path = staged;
                o.stage_data = data;
                o.stage_size = size;
        } else if (hostfs_exists(host_fs(h), staged) <= 0)
                return log_error_errno(-ENOENT, "Nothing staged at /%s: give the certified %s as FILE", staged,
                                       p->microcode_file);
        r = provision(h, &o, stdout, &error);
        if (r < 0)
                return error ? log_error_errno(r, "Installing the microcode failed: %s", error)
                             : log_error_errno(r, "Installing the microcode failed: %m");
        return r;
}

static const struct {
        const char *name;
        int (*run)(int argc, char *argv[]);
} microcode_verbs[] = {
        { "verify", microcode_verify },
        { "install", microcode_install },
};

int verb_microcode(int argc, char *argv[]) {
        if (argc >= 2)
                for (size_t i = 0; i < ELEMENTSOF(microcode_verbs); i++)
                        if (streq(argv[1], microcode_verbs[i].name))
                                return microcode_verbs[i].run(argc - 1, argv + 1);
        return log_error_errno(-EINVAL, "usage: cchostctl microcode verify [--json] FILE... | install [FILE]");
}
