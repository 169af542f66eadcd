/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

/*
 * tpm2-tss (libtss2-esys, -tctildr, -mu, -rc and the libraries they pull in) is opened with dlopen()
 * the first time a TPM is asked for, not linked: only the disk verbs and the FDE probe talk to a
 * TPM, and every other cchostctl run would pay for loading it. The headers still come from
 * libtss2-dev, so the prototypes are checked at compile time. The loading is dl-util's, as for
 * libcurl, libxml2 and libcryptsetup.
 */
#define TPM2_DL_ESYS_SYMBOLS(X) \
        X(Esys_Initialize) \
        X(Esys_Finalize) \
        X(Esys_Startup) \
        X(Esys_Free) \
        X(Esys_FlushContext) \
        X(Esys_CreatePrimary) \
        X(Esys_Create) \
        X(Esys_Load) \
        X(Esys_Unseal) \
        X(Esys_StartAuthSession) \
        X(Esys_TRSess_SetAttributes) \
        X(Esys_PolicyPCR) \
        X(Esys_PCR_Read) \
        X(Esys_TR_Close) \
        X(Esys_TR_Deserialize)
#define TPM2_DL_TCTILDR_SYMBOLS(X) \
        X(Tss2_TctiLdr_Initialize) \
        X(Tss2_TctiLdr_Finalize)
#define TPM2_DL_MU_SYMBOLS(X) \
        X(Tss2_MU_TPM2B_PRIVATE_Marshal) \
        X(Tss2_MU_TPM2B_PRIVATE_Unmarshal) \
        X(Tss2_MU_TPM2B_PUBLIC_Marshal) \
        X(Tss2_MU_TPM2B_PUBLIC_Unmarshal) \
        X(Tss2_MU_TPML_PCR_SELECTION_Marshal) \
        X(Tss2_MU_UINT32_Marshal)
#define TPM2_DL_RC_SYMBOLS(X) \
        X(Tss2_RC_Decode)

#define TPM2_DL_DECLARE(name) extern typeof(name) *sym_##name;
TPM2_DL_ESYS_SYMBOLS(TPM2_DL_DECLARE)
TPM2_DL_TCTILDR_SYMBOLS(TPM2_DL_DECLARE)
TPM2_DL_MU_SYMBOLS(TPM2_DL_DECLARE)
TPM2_DL_RC_SYMBOLS(TPM2_DL_DECLARE)

/* Loads the four libraries once: 0, or -ELIBACC with *ret_why (owned by the loader) naming the
 * library that is missing or too old. */
int dlopen_tpm2(const char **ret_why);
