/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Vendor BIOS attribute names (included by bios-map.c only). Confidence, as in the facts files:
 * names marked [seen] come from vendor documentation or field reports (facts/snp-host.md §7 for
 * Dell's Sme/Snp); the others are the spellings these BIOSes are known to use but are still to be
 * confirmed on hardware. A name that is wrong cannot do harm: resolution only ever sets an
 * attribute the BMC lists, and a knob without a listed name is an error naming what the BMC offers.
 */

static const BiosName dell_names[] = {
        /* AMD PowerEdge (R6625/R7625): Processor Settings */
        { BIOS_SMEE, "SecureMemoryEncryption", "Enabled" },
        { BIOS_SMEE, "Sme", "Enabled" },                        /* [seen] BIOS.ProcSettings.Sme */
        { BIOS_SNP, "Snp", "Enabled" },                         /* [seen] BIOS.ProcSettings.Snp */
        { BIOS_SNP_MEMORY_COVERAGE, "SnpMemCover", "Enabled" },
        { BIOS_SEV_ES_ASID_LIMIT, "MinSevAsid", NULL, 100, 2 },
        /* Intel PowerEdge (R760): Processor Settings / System Security */
        { BIOS_TME, "MemoryEncryption", "MultipleKeys" },        /* TME-MT implies TME */
        { BIOS_TME_MT, "MemoryEncryption", "MultipleKeys" },
        { BIOS_TDX, "IntelTdx", "Enabled" },
        { BIOS_SEAM_LOADER, "TdxSeamLoader", "Enabled" },
        { BIOS_TDX_KEY_SPLIT, "TdxKeySplit", NULL, 1, 1 },
        { BIOS_SGX, "IntelSgx", "On" },
        { BIOS_SGX_LAUNCH_CONTROL, "SgxLeWr", "Enabled" },      /* SGX Launch Enclave Public Key Hash Write */
        {},
};

static const BiosName supermicro_names[] = {
        /* AMI Aptio setup names as exported by Supermicro BMCs (H13 / X13) */
        { BIOS_SMEE, "SMEE", "Enabled" },
        { BIOS_SNP, "SEV_SNPSupport", "Enabled" },
        { BIOS_SNP_MEMORY_COVERAGE, "SNPMemoryCoverage", "Enabled" },
        { BIOS_SEV_ES_ASID_LIMIT, "SEV_ESASIDSpaceLimit", NULL, 100, 2 },
        { BIOS_TME, "TotalMemoryEncryption_TME", "Enabled" },
        { BIOS_TME_MT, "TotalMemoryEncryptionMultiTenant_TME_MT", "Enabled" },
        { BIOS_TDX, "TrustDomainExtension_TDX", "Enabled" },
        { BIOS_SEAM_LOADER, "TDXSecureArbitrationModeLoader_SEAMLoader", "Enabled" },
        { BIOS_TDX_KEY_SPLIT, "TME_MTTDXKeySplit", NULL, 1, 1 },
        { BIOS_SGX, "SWGuardExtensions_SGX", "Enabled" },
        { BIOS_SGX_LAUNCH_CONTROL, "SGXLaunchControlPolicy", "Unlocked" },
        {},
};

static const BiosName hpe_names[] = {
        /* ProLiant Gen11 (iLO 6) */
        { BIOS_SMEE, "ProcAmdSme", "Enabled" },
        { BIOS_SNP, "ProcAmdSnp", "Enabled" },
        { BIOS_SNP_MEMORY_COVERAGE, "ProcAmdSnpMemCoverage", "Enabled" },
        { BIOS_SEV_ES_ASID_LIMIT, "ProcAmdMinSevAsid", NULL, 100, 2 },
        { BIOS_TME, "IntelTme", "Enabled" },
        { BIOS_TME_MT, "IntelTmeMultiTenant", "Enabled" },
        { BIOS_TDX, "IntelTdx", "Enabled" },
        { BIOS_SEAM_LOADER, "IntelTdxSeamLoader", "Enabled" },
        { BIOS_TDX_KEY_SPLIT, "IntelTdxKeySplit", NULL, 1, 1 },
        { BIOS_SGX, "IntelSgx", "Enabled" },
        { BIOS_SGX_LAUNCH_CONTROL, "IntelSgxLaunchControlPolicy", "Unlocked" },
        {},
};

static const BiosName lenovo_names[] = {
        /* ThinkSystem V3 (XClarity Controller 2): "Group_Setting" names */
        { BIOS_SMEE, "Processors_SecureMemoryEncryption", "Enable" },
        { BIOS_SNP, "Processors_SEVSNPSupport", "Enable" },
        { BIOS_SNP_MEMORY_COVERAGE, "Processors_SNPMemoryCoverage", "Enable" },
        { BIOS_SEV_ES_ASID_LIMIT, "Processors_SEVESASIDSpaceLimit", NULL, 100, 2 },
        { BIOS_TME, "Processors_TotalMemoryEncryption", "Enable" },
        { BIOS_TME_MT, "Processors_TotalMemoryEncryptionMultiTenant", "Enable" },
        { BIOS_TDX, "Processors_TrustDomainExtension", "Enable" },
        { BIOS_SEAM_LOADER, "Processors_TDXSEAMLoader", "Enable" },
        { BIOS_TDX_KEY_SPLIT, "Processors_TMEMTTDXKeySplit", NULL, 1, 1 },
        { BIOS_SGX, "Processors_SGX", "Enable" },
        { BIOS_SGX_LAUNCH_CONTROL, "Processors_SGXLaunchControlPolicy", "Unlocked" },
        {},
};

static const BiosVendor bios_vendors[] = {
        { "dell", { "dell" }, dell_names },
        { "hpe", { "hpe", "hewlett" }, hpe_names },
        { "lenovo", { "lenovo" }, lenovo_names },
        { "supermicro", { "supermicro", "super micro" }, supermicro_names },
};
