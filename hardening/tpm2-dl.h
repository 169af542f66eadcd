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
 * libtss2-dev, so the prototypes are checked at compile time.
 */
extern typeof(Esys_Initialize) *sym_Esys_Initialize;
extern typeof(Esys_Finalize) *sym_Esys_Finalize;
extern typeof(Esys_Startup) *sym_Esys_Startup;
extern typeof(Esys_Free) *sym_Esys_Free;
extern typeof(Esys_FlushContext) *sym_Esys_FlushContext;
extern typeof(Esys_CreatePrimary) *sym_Esys_CreatePrimary;
extern typeof(Esys_Create) *sym_Esys_Create;
extern typeof(Esys_Load) *sym_Esys_Load;
extern typeof(Esys_Unseal) *sym_Esys_Unseal;
extern typeof(Esys_StartAuthSession) *sym_Esys_StartAuthSession;
extern typeof(Esys_TRSess_SetAttributes) *sym_Esys_TRSess_SetAttributes;
extern typeof(Esys_PolicyPCR) *sym_Esys_PolicyPCR;
extern typeof(Esys_PCR_Read) *sym_Esys_PCR_Read;
extern typeof(Esys_TR_Close) *sym_Esys_TR_Close;
extern typeof(Esys_TR_Deserialize) *sym_Esys_TR_Deserialize;
extern typeof(Tss2_TctiLdr_Initialize) *sym_Tss2_TctiLdr_Initialize;
extern typeof(Tss2_TctiLdr_Finalize) *sym_Tss2_TctiLdr_Finalize;
extern typeof(Tss2_MU_TPM2B_PRIVATE_Marshal) *sym_Tss2_MU_TPM2B_PRIVATE_Marshal;
extern typeof(Tss2_MU_TPM2B_PRIVATE_Unmarshal) *sym_Tss2_MU_TPM2B_PRIVATE_Unmarshal;
extern typeof(Tss2_MU_TPM2B_PUBLIC_Marshal) *sym_Tss2_MU_TPM2B_PUBLIC_Marshal;
extern typeof(Tss2_MU_TPM2B_PUBLIC_Unmarshal) *sym_Tss2_MU_TPM2B_PUBLIC_Unmarshal;
extern typeof(Tss2_MU_TPML_PCR_SELECTION_Marshal) *sym_Tss2_MU_TPML_PCR_SELECTION_Marshal;
extern typeof(Tss2_MU_UINT32_Marshal) *sym_Tss2_MU_UINT32_Marshal;
extern typeof(Tss2_RC_Decode) *sym_Tss2_RC_Decode;

/* Loads the four libraries once: 0, or -EOPNOTSUPP with *ret_why (static text) naming the library
 * that is missing or too old. */
int dlopen_tpm2(const char **ret_why);
