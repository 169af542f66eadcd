/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "cli.h"
#include "log.h"
#include "macro.h"

static int certs_import(void) {
        _cleanup_(host_freep) Host *h = NULL;
        int r;

        if (!arg_tdx_bundle == !arg_snp_bundle)
                return log_error_errno(-EINVAL, "certs import needs exactly one of --tdx BUNDLE or --snp BUNDLE");
        r = open_host(&h);
        if (r < 0)
                return r;
        return arg_tdx_bundle ? certs_import_tdx(h, arg_tdx_bundle) : certs_import_snp(h, arg_snp_bundle);
}

static int certs_fetch(void) {
        _cleanup_(host_freep) Host *h = NULL;
        int r;

        r = open_host(&h);
        if (r < 0)
                return r;
        return certs_fetch_snp(h);
}

static int certs_show(void) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_(json_object_putp) json_object *doc = NULL;
        int r;

        r = open_host(&h);
        if (r < 0)
                return r;
        doc = json_object_new_object();
        if (!doc)
                return log_error_errno(-ENOMEM, "Out of memory");
        json_object_object_add(doc, "schema", json_object_new_string("cchost.certs/v1"));
        json_object_object_add(doc, "root", json_object_new_string(arg_root));
        r = certs_show_tdx(h, doc, !arg_json);
        if (r < 0)
                return r;
        r = certs_show_snp(h, doc, !arg_json);
        if (r < 0)
                return r;
        if (arg_json)
                print_json(doc);
        return 0;
}

int verb_certs(int argc, char *argv[]) {
        if (argc == 2 && streq(argv[1], "import"))
                return certs_import();
        if (argc == 2 && streq(argv[1], "show"))
                return certs_show();
        if (argc == 2 && streq(argv[1], "fetch"))
                return certs_fetch();
        return log_error_errno(-EINVAL, "usage: cchostctl certs import --tdx BUNDLE | --snp BUNDLE; cchostctl certs fetch "
                               "(AMD KDS); cchostctl certs show [--json]");
}
