/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "probe.h"

/*
 * The one list of probes, in the order they run and print. Parents come before their children.
 * Area folders define the Probe objects; only this file knows them all.
 */

extern const Probe probe_host_cpu_tee;
extern const Probe probe_snp_cpu_vendor, probe_snp_cpu_generation, probe_snp_cpu_features;
extern const Probe probe_snp_bios_smee, probe_snp_bios_smmlock, probe_snp_bios_asid, probe_snp_bios_rmp,
        probe_snp_bios_snpen;
extern const Probe probe_snp_kernel_version, probe_snp_kernel_cmdline, probe_snp_kernel_iommu;
extern const Probe probe_snp_psp_device, probe_snp_psp_platform, probe_snp_psp_tcb;
extern const Probe probe_snp_kvm_params, probe_snp_capacity, probe_snp_certs_cache;
extern const Probe probe_tdx_cpu_vendor;
extern const Probe probe_tdx_bios_tme, probe_tdx_bios_tme_mt, probe_tdx_bios_keyids, probe_tdx_bios_seamrr,
        probe_tdx_bios_seamldr, probe_tdx_bios_sgx, probe_tdx_bios_production, probe_tdx_bios_mcheck;
extern const Probe probe_tdx_kernel_cmdline, probe_tdx_kernel_flag, probe_tdx_kvm_param, probe_tdx_module_version;
extern const Probe probe_tdx_sgx_devices, probe_tdx_capacity;
extern const Probe probe_tdx_kvm_settings;
extern const Probe probe_tdx_pccs_collateral, probe_tdx_qcnl_config, probe_tdx_qgs_config;
extern const Probe probe_host_kvm_device, probe_host_virt_libvirt, probe_host_virt_qemu;
extern const Probe probe_host_microcode_consistent;
extern const Probe probe_firmware_baseline_manifest, probe_firmware_baseline_microcode,
        probe_firmware_baseline_tdx_module, probe_firmware_baseline_sev_firmware, probe_firmware_baseline_bios;
extern const Probe probe_hardening_fde_volumes; /* FDE (issue 6) */

const Probe *const probe_table[] = {
        &probe_host_cpu_tee,

        &probe_snp_cpu_vendor,
        &probe_snp_cpu_generation,
        &probe_snp_cpu_features,
        &probe_snp_bios_smee,
        &probe_snp_bios_smmlock,
        &probe_snp_bios_asid,
        &probe_snp_bios_rmp,
        &probe_snp_bios_snpen,
        &probe_snp_kernel_version,
        &probe_snp_kernel_cmdline,
        &probe_snp_kernel_iommu,
        &probe_snp_psp_device,
        &probe_snp_psp_platform,
        &probe_snp_psp_tcb,
        &probe_snp_kvm_params,
        &probe_snp_capacity,
        &probe_snp_certs_cache,

        &probe_tdx_cpu_vendor,
        &probe_tdx_bios_tme,
        &probe_tdx_bios_tme_mt,
        &probe_tdx_bios_keyids,
        &probe_tdx_bios_seamrr,
        &probe_tdx_bios_seamldr,
        &probe_tdx_bios_sgx,
        &probe_tdx_bios_production,
        &probe_tdx_bios_mcheck,
        &probe_tdx_kernel_cmdline,
        &probe_tdx_kernel_flag,
        &probe_tdx_kvm_param,
        &probe_tdx_kvm_settings,
        &probe_tdx_module_version,
        &probe_tdx_sgx_devices,
        &probe_tdx_capacity,
        &probe_tdx_pccs_collateral,
        &probe_tdx_qcnl_config,
        &probe_tdx_qgs_config,

        &probe_host_kvm_device,
        &probe_host_virt_libvirt,
        &probe_host_virt_qemu,
        &probe_host_microcode_consistent,
        &probe_firmware_baseline_manifest,
        &probe_firmware_baseline_microcode,
        &probe_firmware_baseline_tdx_module,
        &probe_firmware_baseline_sev_firmware,
        &probe_firmware_baseline_bios,

        &probe_hardening_fde_volumes, /* FDE (issue 6) */
};

const size_t probe_table_size = ELEMENTSOF(probe_table);

const Probe *probe_find(const char *id) {
        for (size_t i = 0; i < probe_table_size; i++)
                if (streq(probe_table[i]->id, id))
                        return probe_table[i];
        return NULL;
}
