/* SPDX-License-Identifier: LGPL-2.1-or-later */

/* Platform check types: UEFI Secure Boot and a TPM 2.0. */

#include "harden-internal.h"
#include "harden.h"

#define SECUREBOOT_VAR "sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-e98c0e0e0c0c"

FindingStatus harden_check_efivar_secureboot(Host *h, const HardenRule *r, Finding *f) {
        _cleanup_free_ char *data = NULL;
        size_t size;
        int q;

        if (hostfs_exists(host_fs(h), "sys/firmware/efi") <= 0) {
                if (hostfs_exists(host_fs(h), "sys/firmware") <= 0)
                        return finding_unknown(f, 0, NULL, "no /sys/firmware under the root");
                return finding_set(f, FINDING_FAIL, "booted without UEFI (no /sys/firmware/efi): no Secure Boot");
        }
        q = hostfs_read_file(host_fs(h), SECUREBOOT_VAR, 64, &data, &size);
        if (q < 0)
                return finding_unknown(f, q, NULL, "cannot read the SecureBoot EFI variable");
        /* 4 bytes of attributes, then the value */
        if (size != 5)
                return finding_unknown(f, -EBADMSG, NULL, "SecureBoot EFI variable has %zu bytes, expected 5", size);
        finding_evidence_int(f, "SecureBoot", (uint8_t) data[4]);
        if (data[4] != 1)
                return finding_set(f, FINDING_FAIL, "Secure Boot is off");
        return finding_set(f, FINDING_PASS, "Secure Boot is on");
}

FindingStatus harden_check_tpm_present(Host *h, const HardenRule *r, Finding *f) {
        _cleanup_free_ char *major = NULL;
        int q;

        if (hostfs_exists(host_fs(h), "sys/class") <= 0)
                return finding_unknown(f, 0, NULL, "no /sys/class under the root");
        if (hostfs_exists(host_fs(h), "sys/class/tpm/tpm0") <= 0)
                return finding_set(f, FINDING_FAIL, "no TPM (no /sys/class/tpm/tpm0)");
        q = hostfs_read_line(host_fs(h), "sys/class/tpm/tpm0/tpm_version_major", &major);
        if (q < 0)
                return finding_unknown(f, q, NULL, "cannot read /sys/class/tpm/tpm0/tpm_version_major");
        finding_evidence_str(f, "tpm_version_major", major);
        if (!streq(major, "2"))
                return finding_set(f, FINDING_FAIL, "TPM version %s, expected 2.0", major);
        return finding_set(f, FINDING_PASS, "TPM 2.0 present");
}
