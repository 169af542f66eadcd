/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SCAFFOLD: replaced by the PCCS collateral import (tdx-host/pccs.c) before this lands on main. */
#include "cli.h"
#include "log.h"

int certs_import_tdx(Host *h, const char *bundle) {
        return log_error_errno(-EOPNOTSUPP, "TDX collateral import is not built yet");
}

int certs_show_tdx(Host *h, json_object *doc, bool text) {
        return 0;
}
