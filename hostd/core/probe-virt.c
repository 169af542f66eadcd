/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>

#include "domcaps.h"
#include "engine.h"
#include "probe-util.h"

/* host.virt.*: the virtualization stack above KVM (libvirt, QEMU). */

#define DEFAULT_EMULATOR "/usr/bin/qemu-system-x86_64"

/* libvirt's answer parsed once per run (both host.virt probes read it): 0, or <0 when it is not domain capabilities. */
typedef struct DomCapsMemo {
        int error;
        DomCaps caps;
} DomCapsMemo;

static void domcaps_memo_free(void *p) {
        DomCapsMemo *m = p;

        if (m->error == 0)
                domcaps_done(&m->caps);
        free(m);
}

static int parsed_domcaps(ProbeContext *c, const char *xml, const DomCaps **ret) {
        DomCapsMemo *m;
        int r;

        m = engine_run_memo(c->run, "host.virt.domcaps");
        if (!m) {
                m = calloc(1, sizeof(*m));
                if (!m)
                        return -ENOMEM;
                m->error = domcaps_parse(xml, strlen(xml), &m->caps);
                if (m->error == -ENOMEM) {
                        free(m);
                        return -ENOMEM;
                }
                if (m->error > 0)
                        m->error = 0;
                r = engine_run_memo_put(c->run, "host.virt.domcaps", m, domcaps_memo_free);
                if (r < 0)
                        return r; /* freed by engine_run_memo_put() */
        }
        if (m->error < 0)
                return m->error;
        *ret = &m->caps;
        return 0;
}

static void run_libvirt(ProbeContext *c, Finding *f) {
        const DomCaps *cp = NULL;
        const char *xml;
        DomCaps caps;
        Tee tee = c->report->tee;
        int r;

        finding_evidence_str(f, "uri", host_libvirt_uri(c->host));
        r = host_libvirt_domcaps(c->host, &xml);
        if (r < 0) {
                finding_unknown(f, r, host_detail(c->host), "libvirt is not reachable");
                return;
        }
        r = parsed_domcaps(c, xml, &cp);
        if (r >= 0)
                caps = *cp; /* a shallow copy: the strings belong to the run */
        if (r < 0) {
                finding_unknown(f, r, NULL, "libvirt's domain capabilities are not valid XML");
                return;
        }
        finding_evidence_str(f, "emulator", caps.emulator);
        finding_evidence_bool(f, "sev", caps.sev);
        if (caps.max_guests >= 0)
                finding_evidence_int(f, "max_guests", caps.max_guests);
        if (caps.max_es_guests >= 0)
                finding_evidence_int(f, "max_es_guests", caps.max_es_guests);
        if (caps.sectypes_listed) {
                finding_evidence_bool(f, "sectype_sev_snp", caps.sectype_sev_snp);
                finding_evidence_bool(f, "sectype_tdx", caps.sectype_tdx);
        }
        finding_evidence_bool(f, "tdx", caps.tdx);

        switch (tee) {
        case TEE_SNP:
                if (!caps.sev)
                        finding_set(f, FINDING_FAIL, "libvirt reports no SEV support for KVM guests");
                else if (caps.max_es_guests == 0) {
                        finding_set(f, FINDING_FAIL, "libvirt reports SEV, but no SEV-ES/SNP guest slots "
                                    "(maxESGuests 0)");
                        finding_remedy(f, "KVM has no ASIDs for SEV-ES/SNP guests: reserve them in the BIOS "
                                          "(SEV-ES ASID Space Limit) and enable sev_es/sev_snp in kvm_amd.");
                }
                else if (caps.sectypes_listed && !caps.sectype_sev_snp)
                        finding_set(f, FINDING_FAIL, "libvirt lists launch security types without sev-snp");
                else
                        finding_set(f, FINDING_PASS, "SEV supported: %ld SEV guests, %ld SEV-ES/SNP guests%s",
                                    caps.max_guests, caps.max_es_guests,
                                    caps.sectype_sev_snp ? ", sev-snp launch security" : "");
                break;
        case TEE_TDX:
                if (caps.tdx || caps.sectype_tdx)
                        finding_set(f, FINDING_PASS, "TDX launch security supported");
                else
                        finding_set(f, FINDING_FAIL, "libvirt reports no TDX support for KVM guests");
                break;
        default:
                finding_set(f, FINDING_PASS, "domain capabilities readable (no TEE to look for)");
                break;
        }
}

const Probe probe_host_virt_libvirt = {
        .id = "host.virt.libvirt",
        .component = "virt",
        .tee = TEE_NONE,
        .reads = "libvirt domain capabilities (x86_64, kvm) from the configured URI (default qemu:///system)",
        .rule = "SNP: <sev supported='yes'> with maxESGuests > 0 (and sev-snp among launchSecurity sectypes when "
                "listed); TDX: <tdx supported='yes'> or a tdx sectype",
        .remedy = "Start libvirt (virtqemud or libvirtd) and check that it sees KVM with SEV-SNP/TDX: "
                  "virsh domcapabilities --virttype kvm. Old libvirt or QEMU builds do not know SNP or TDX: "
                  "upgrade them.",
        .run = run_libvirt,
};

/* True if text has a line whose first word is name ("  sev-snp-guest" in "-object help"). */
static bool lists_object(const char *text, const char *name) {
        size_t n = strlen(name);

        for (const char *p = text; p && *p;) {
                while (*p == ' ' || *p == '\t')
                        p++;
                if (strneq(p, name, n) && (p[n] == 0 || isspace((unsigned char) p[n])))
                        return true;
                p = strchr(p, '\n');
                if (p)
                        p++;
        }
        return false;
}

static void run_qemu(ProbeContext *c, Finding *f) {
        _cleanup_free_ char *help = NULL, *emulator = NULL;
        const char *xml, *object;
        int r;

        switch (c->report->tee) {
        case TEE_SNP:
                object = "sev-snp-guest";
                break;
        case TEE_TDX:
                object = "tdx-guest";
                break;
        default:
                finding_set(f, FINDING_SKIP, "no TEE on this host");
                return;
        }

        /* the emulator libvirt would use; without libvirt (Kata) the distribution's default */
        if (host_libvirt_domcaps(c->host, &xml) >= 0) {
                const DomCaps *caps;

                if (parsed_domcaps(c, xml, &caps) >= 0 && caps->emulator) {
                        emulator = strdup(caps->emulator);
                        if (!emulator) {
                                finding_unknown(f, -ENOMEM, NULL, "out of memory");
                                return;
                        }
                }
        }
        if (!emulator) {
                emulator = strdup(DEFAULT_EMULATOR);
                if (!emulator) {
                        finding_unknown(f, -ENOMEM, NULL, "out of memory");
                        return;
                }
        }
        finding_evidence_str(f, "emulator", emulator);

        r = host_qemu_object_help(c->host, emulator, &help);
        if (r < 0) {
                finding_unknown(f, r, host_detail(c->host), "cannot ask %s for its object types", emulator);
                return;
        }
        finding_evidence_bool(f, object, lists_object(help, object));
        if (!lists_object(help, object)) {
                finding_set(f, FINDING_FAIL, "%s has no %s object type", emulator, object);
                return;
        }
        finding_set(f, FINDING_PASS, "%s offers %s", emulator, object);
}

const Probe probe_host_virt_qemu = {
        .id = "host.virt.qemu",
        .component = "virt",
        .parent = "host.virt.libvirt",
        .tee = TEE_NONE,
        .reads = "\"EMULATOR -object help\" for the emulator in libvirt's domain capabilities (default "
                 "/usr/bin/qemu-system-x86_64)",
        .rule = "lists sev-snp-guest (SNP) or tdx-guest (TDX)",
        .remedy = "Install a QEMU with SEV-SNP (9.1+) or TDX (10.1+) guest support, or point libvirt at one.",
        .run = run_qemu,
};
