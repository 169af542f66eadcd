/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "dl-util.h"
#include "macro.h"
#include "tpm2-dl.h"

#define TPM2_DL_DEFINE(name) typeof(name) *sym_##name;
TPM2_DL_ESYS_SYMBOLS(TPM2_DL_DEFINE)
TPM2_DL_TCTILDR_SYMBOLS(TPM2_DL_DEFINE)
TPM2_DL_MU_SYMBOLS(TPM2_DL_DEFINE)
TPM2_DL_RC_SYMBOLS(TPM2_DL_DEFINE)

#define TPM2_DL_ENTRY(name) { #name, (void **) &sym_##name },
static const DlSym esys_syms[] = { TPM2_DL_ESYS_SYMBOLS(TPM2_DL_ENTRY) };
static const DlSym tctildr_syms[] = { TPM2_DL_TCTILDR_SYMBOLS(TPM2_DL_ENTRY) };
static const DlSym mu_syms[] = { TPM2_DL_MU_SYMBOLS(TPM2_DL_ENTRY) };
static const DlSym rc_syms[] = { TPM2_DL_RC_SYMBOLS(TPM2_DL_ENTRY) };

static DlLibrary tpm2_libraries[] = {
        { .label = "tpm2-tss", .soname = "libtss2-esys.so.0", .syms = esys_syms, .n_syms = ELEMENTSOF(esys_syms) },
        { .label = "tpm2-tss", .soname = "libtss2-tctildr.so.0", .syms = tctildr_syms,
          .n_syms = ELEMENTSOF(tctildr_syms) },
        { .label = "tpm2-tss", .soname = "libtss2-mu.so.0", .syms = mu_syms, .n_syms = ELEMENTSOF(mu_syms) },
        { .label = "tpm2-tss", .soname = "libtss2-rc.so.0", .syms = rc_syms, .n_syms = ELEMENTSOF(rc_syms) },
};

int dlopen_tpm2(const char **ret_why) {
        for (size_t i = 0; i < ELEMENTSOF(tpm2_libraries); i++) {
                int r = dl_library_load(&tpm2_libraries[i], ret_why);

                if (r < 0)
                        return r;
        }
        return 0;
}
