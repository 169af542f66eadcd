/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SCAFFOLD: replaced by the AMD certificate import (snp-host/snp-certs.c) before this lands on main. */
#include "cli.h"
#include "log.h"

int certs_import_snp(Host *h, const char *bundle) {
        return log_error_errno(-EOPNOTSUPP, "SNP certificate import is not built yet");
}

int certs_show_snp(Host *h, json_object *doc, bool text) {
        return 0;
}
