/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <stdio.h>

#include "parse-util.h"
#include "strv.h"
#include "tdx-host.h"

static const struct {
        unsigned model;
        const char *name;
        const char *module;
} generations[_TDX_GEN_MAX] = {
        [TDX_GEN_SAPPHIRE_RAPIDS] = { 0x8f, "Sapphire Rapids", "1.5" },
        [TDX_GEN_EMERALD_RAPIDS] = { 0xcf, "Emerald Rapids", "1.5" },
        [TDX_GEN_GRANITE_RAPIDS] = { 0xad, "Granite Rapids", "2.0" },
        [TDX_GEN_SIERRA_FOREST] = { 0xaf, "Sierra Forest", "1.5" },
};

TdxGeneration tdx_generation(const CpuIdentity *cpu) {
        if (cpu->vendor_id != CPU_VENDOR_INTEL || cpu->family != 6)
                return _TDX_GEN_INVALID;
        for (int i = 0; i < _TDX_GEN_MAX; i++)
                if (generations[i].model == cpu->model)
                        return (TdxGeneration) i;
        return _TDX_GEN_INVALID;
}

const char *tdx_generation_to_string(TdxGeneration g) {
        return g >= 0 && g < _TDX_GEN_MAX ? generations[g].name : NULL;
}

const char *tdx_expected_module(TdxGeneration g) {
        return g >= 0 && g < _TDX_GEN_MAX ? generations[g].module : NULL;
}

static bool truthy(const char *v) {
        return v && (streq(v, "1") || streq(v, "Y") || streq(v, "y") || streq(v, "on"));
}

/* Looks for "options kvm_intel ... tdx=1" (or kvm-intel) in one modprobe.d file. */
static bool conf_requests_tdx(const char *text) {
        const char *line = text;

        while (*line) {
                const char *end = strchr(line, '\n');
                size_t len = end ? (size_t) (end - line) : strlen(line);
                _cleanup_free_ char *l = strndup(line, len);
                _cleanup_(strv_freep) char **w = NULL;

                if (l && cmdline_split(l, &w) >= 0 && w[0] && w[1] && streq(w[0], "options") &&
                    (streq(w[1], "kvm_intel") || streq(w[1], "kvm-intel")))
                        for (char **o = w + 2; *o && (*o)[0] != '#'; o++)
                                if (strneq(*o, "tdx=", 4) && truthy(*o + 4))
                                        return true;
                if (!end)
                        break;
                line = end + 1;
        }
        return false;
}

int tdx_requested(Host *h, const char *cmdline, char **ret_where) {
        static const char *const dirs[] = { "etc/modprobe.d", "run/modprobe.d", "lib/modprobe.d" };
        _cleanup_free_ char *own = NULL, *value = NULL;
        int r;

        if (!cmdline) {
                r = hostfs_read_line(host_fs(h), "proc/cmdline", &own);
                if (r < 0)
                        return r;
                cmdline = own;
        }
        r = cmdline_find(cmdline, "kvm_intel.tdx", &value);
        if (r < 0)
                return r;
        if (r > 0 && truthy(value)) {
                *ret_where = strdup("kernel command line");
                return *ret_where ? 1 : -ENOMEM;
        }

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_(strv_freep) char **files = NULL;

                if (hostfs_list_dir(host_fs(h), dirs[i], &files) < 0)
                        continue;
                STRV_FOREACH(name, files) {
                        _cleanup_free_ char *path = NULL, *text = NULL;
                        size_t n = strlen(*name);

                        if (n < 6 || !streq(*name + n - 5, ".conf"))
                                continue;
                        if (asprintf(&path, "%s/%s", dirs[i], *name) < 0)
                                return -ENOMEM;
                        if (hostfs_read_file(host_fs(h), path, 1024 * 1024, &text, NULL) < 0)
                                continue;
                        if (conf_requests_tdx(text)) {
                                if (asprintf(ret_where, "/%s", path) < 0)
                                        return -ENOMEM;
                                return 1;
                        }
                }
        }
        return 0;
}
