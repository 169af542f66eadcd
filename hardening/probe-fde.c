/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <stdio.h>

#include "config.h"
#include "engine.h"
#include "fde.h"
#include "fileio.h"
#include "probe.h"

/*
 * hardening.fde.volumes: the LUKS2 state of the devices cchost.yaml lists under fde.devices, read
 * under the root (each device is opened through hostfs and handed to libcryptsetup as its fd), so a
 * capture or a fixture tree with image files is checked like a live host. The TPM is not asked
 * here (that is not a file); "cchostctl disk status" also compares the PCR policies.
 */

static void run(ProbeContext *c, Finding *f) {
        _cleanup_free_ char *failed = NULL;
        const char *error = NULL;
        json_object *devices;
        const Config *config;
        unsigned n_fail = 0;
        int r;

        r = engine_run_config(c->run, &config, &error);
        if (r < 0) {
                finding_unknown(f, r, NULL, "cannot read the configuration: %s", strnull(error));
                return;
        }
        if (!config->fde.devices || !config->fde.devices[0]) {
                finding_set(f, FINDING_SKIP, "no encrypted volumes configured (fde.devices in cchost.yaml)");
                return;
        }
        devices = json_object_new_object();
        for (char **d = config->fde.devices; *d; d++) {
                /* an image file or this machine's block device; a FIFO or a node made with mknod is refused */
                _cleanup_close_ int fd = hostfs_open_typed(host_fs(c->host), *d + 1, O_RDONLY | O_NOCTTY, 0,
                                                           HOSTFS_TYPE_REG | HOSTFS_TYPE_BLK);
                _cleanup_(json_object_putp) json_object *o = NULL;
                json_object *findings, *e;
                char path[FD_PATH_MAX];

                if (fd < 0) {
                        json_object_put(devices);
                        if (fd == -ENOTSUP || fd == -EISDIR)
                                finding_unknown(f, fd, *d, "%s is not a block device or an image file", *d);
                        else if (fd == -ENODEV)
                                finding_unknown(f, fd, *d, "%s is not this machine's block device (a node made in the tree?)", *d);
                        else
                                finding_unknown(f, fd, *d, "cannot open %s", *d);
                        return;
                }
                r = fde_status(fd_self_path(fd, path), *d, NULL, false, &o);
                if (r < 0) {
                        json_object_put(devices);
                        finding_unknown(f, r, *d, "cannot read the LUKS2 header of %s", *d);
                        return;
                }
                e = json_object_new_object();
                json_object_object_add(e, "type", json_object_get(json_object_object_get(o, "type")));
                json_object_object_add(e, "tpm2_token", json_object_get(json_object_object_get(o, "tpm2_token")));
                json_object_object_add(e, "recovery_keyslot",
                                       json_object_get(json_object_object_get(o, "recovery_keyslot")));
                json_object_object_add(e, "reencryption", json_object_get(json_object_object_get(o, "reencryption")));
                json_object_object_add(devices, *d, e);
                findings = json_object_object_get(o, "findings");
                for (size_t i = 0; i < json_object_array_length(findings); i++) {
                        json_object *x = json_object_array_get_idx(findings, i);
                        const char *status = json_object_get_string(json_object_object_get(x, "status"));
                        char *p;

                        if (streq(status, "pass"))
                                continue;
                        n_fail++;
                        if (asprintf(&p, "%s%s%s", strempty(failed), failed ? "; " : "",
                                     json_object_get_string(json_object_object_get(x, "detail"))) < 0)
                                p = NULL;
                        free(failed);
                        failed = p;
                }
        }
        finding_evidence_obj(f, "devices", devices);
        if (n_fail > 0)
                finding_set(f, FINDING_FAIL, "%s", strempty(failed));
        else
                finding_set(f, FINDING_PASS, "every configured volume is LUKS2, bound to the TPM2, with a recovery "
                            "keyslot and no reencryption pending");
}

const Probe probe_hardening_fde_volumes = {
        .id = "hardening.fde.volumes",
        .component = "hardening",
        .tee = TEE_NONE,
        .reads = "the LUKS2 headers of the devices listed in cchost.yaml fde.devices (keyslots, tokens, "
                 "reencryption state)",
        .rule = "each device is LUKS2 with a systemd-tpm2 token, a recovery keyslot and no reencryption in "
                "progress; skip when no device is configured",
        .remedy = "cchostctl disk enroll DEVICE --tpm2 (and disk rotate DEVICE --volume-key to finish an "
                  "interrupted reencryption); convert LUKS1 with cryptsetup convert --type luks2.",
        .run = run,
};
