/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

#include "macro.h"
#include "tpm2-dl.h"

typeof(Esys_Initialize) *sym_Esys_Initialize;
typeof(Esys_Finalize) *sym_Esys_Finalize;
typeof(Esys_Startup) *sym_Esys_Startup;
typeof(Esys_Free) *sym_Esys_Free;
typeof(Esys_FlushContext) *sym_Esys_FlushContext;
typeof(Esys_CreatePrimary) *sym_Esys_CreatePrimary;
typeof(Esys_Create) *sym_Esys_Create;
typeof(Esys_Load) *sym_Esys_Load;
typeof(Esys_Unseal) *sym_Esys_Unseal;
typeof(Esys_StartAuthSession) *sym_Esys_StartAuthSession;
typeof(Esys_TRSess_SetAttributes) *sym_Esys_TRSess_SetAttributes;
typeof(Esys_PolicyPCR) *sym_Esys_PolicyPCR;
typeof(Esys_PCR_Read) *sym_Esys_PCR_Read;
typeof(Esys_TR_Close) *sym_Esys_TR_Close;
typeof(Esys_TR_Deserialize) *sym_Esys_TR_Deserialize;
typeof(Tss2_TctiLdr_Initialize) *sym_Tss2_TctiLdr_Initialize;
typeof(Tss2_TctiLdr_Finalize) *sym_Tss2_TctiLdr_Finalize;
typeof(Tss2_MU_TPM2B_PRIVATE_Marshal) *sym_Tss2_MU_TPM2B_PRIVATE_Marshal;
typeof(Tss2_MU_TPM2B_PRIVATE_Unmarshal) *sym_Tss2_MU_TPM2B_PRIVATE_Unmarshal;
typeof(Tss2_MU_TPM2B_PUBLIC_Marshal) *sym_Tss2_MU_TPM2B_PUBLIC_Marshal;
typeof(Tss2_MU_TPM2B_PUBLIC_Unmarshal) *sym_Tss2_MU_TPM2B_PUBLIC_Unmarshal;
typeof(Tss2_MU_TPML_PCR_SELECTION_Marshal) *sym_Tss2_MU_TPML_PCR_SELECTION_Marshal;
typeof(Tss2_MU_UINT32_Marshal) *sym_Tss2_MU_UINT32_Marshal;
typeof(Tss2_RC_Decode) *sym_Tss2_RC_Decode;

int dlopen_tpm2(const char **ret_why) {
        static int state = 0; /* 0 not tried, 1 loaded, <0 failed */
        static const char *why = NULL;
        static const struct {
                const char *soname;
                const char *missing;
                const char *too_old;
        } libs[] = {
                { "libtss2-esys.so.0", "tpm2-tss (libtss2-esys.so.0) is not installed",
                  "libtss2-esys.so.0 lacks a function cchost uses (too old)" },
                { "libtss2-tctildr.so.0", "tpm2-tss (libtss2-tctildr.so.0) is not installed",
                  "libtss2-tctildr.so.0 lacks a function cchost uses (too old)" },
                { "libtss2-mu.so.0", "tpm2-tss (libtss2-mu.so.0) is not installed",
                  "libtss2-mu.so.0 lacks a function cchost uses (too old)" },
                { "libtss2-rc.so.0", "tpm2-tss (libtss2-rc.so.0) is not installed",
                  "libtss2-rc.so.0 lacks a function cchost uses (too old)" },
        };
        static const struct {
                unsigned lib;
                const char *name;
                void **sym;
        } table[] = {
                { 0, "Esys_Initialize", (void **) &sym_Esys_Initialize },
                { 0, "Esys_Finalize", (void **) &sym_Esys_Finalize },
                { 0, "Esys_Startup", (void **) &sym_Esys_Startup },
                { 0, "Esys_Free", (void **) &sym_Esys_Free },
                { 0, "Esys_FlushContext", (void **) &sym_Esys_FlushContext },
                { 0, "Esys_CreatePrimary", (void **) &sym_Esys_CreatePrimary },
                { 0, "Esys_Create", (void **) &sym_Esys_Create },
                { 0, "Esys_Load", (void **) &sym_Esys_Load },
                { 0, "Esys_Unseal", (void **) &sym_Esys_Unseal },
                { 0, "Esys_StartAuthSession", (void **) &sym_Esys_StartAuthSession },
                { 0, "Esys_TRSess_SetAttributes", (void **) &sym_Esys_TRSess_SetAttributes },
                { 0, "Esys_PolicyPCR", (void **) &sym_Esys_PolicyPCR },
                { 0, "Esys_PCR_Read", (void **) &sym_Esys_PCR_Read },
                { 0, "Esys_TR_Close", (void **) &sym_Esys_TR_Close },
                { 0, "Esys_TR_Deserialize", (void **) &sym_Esys_TR_Deserialize },
                { 1, "Tss2_TctiLdr_Initialize", (void **) &sym_Tss2_TctiLdr_Initialize },
                { 1, "Tss2_TctiLdr_Finalize", (void **) &sym_Tss2_TctiLdr_Finalize },
                { 2, "Tss2_MU_TPM2B_PRIVATE_Marshal", (void **) &sym_Tss2_MU_TPM2B_PRIVATE_Marshal },
                { 2, "Tss2_MU_TPM2B_PRIVATE_Unmarshal", (void **) &sym_Tss2_MU_TPM2B_PRIVATE_Unmarshal },
                { 2, "Tss2_MU_TPM2B_PUBLIC_Marshal", (void **) &sym_Tss2_MU_TPM2B_PUBLIC_Marshal },
                { 2, "Tss2_MU_TPM2B_PUBLIC_Unmarshal", (void **) &sym_Tss2_MU_TPM2B_PUBLIC_Unmarshal },
                { 2, "Tss2_MU_TPML_PCR_SELECTION_Marshal", (void **) &sym_Tss2_MU_TPML_PCR_SELECTION_Marshal },
                { 2, "Tss2_MU_UINT32_Marshal", (void **) &sym_Tss2_MU_UINT32_Marshal },
                { 3, "Tss2_RC_Decode", (void **) &sym_Tss2_RC_Decode },
        };
        void *dl[ELEMENTSOF(libs)];

        if (state == 0) {
                state = 1;
                for (size_t i = 0; i < ELEMENTSOF(libs) && state > 0; i++) {
                        dl[i] = dlopen(libs[i].soname, RTLD_NOW | RTLD_LOCAL);
                        if (!dl[i]) {
                                why = libs[i].missing;
                                state = -EOPNOTSUPP;
                        }
                }
                /* a half-loaded library is never unloaded under us: the handles stay */
                for (size_t i = 0; i < ELEMENTSOF(table) && state > 0; i++) {
                        *table[i].sym = dlsym(dl[table[i].lib], table[i].name);
                        if (!*table[i].sym) {
                                why = libs[table[i].lib].too_old;
                                state = -EOPNOTSUPP;
                        }
                }
        }
        if (state < 0 && ret_why)
                *ret_why = why;
        return state < 0 ? state : 0;
}
