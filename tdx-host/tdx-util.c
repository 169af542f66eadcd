/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "kernel-bool.h"
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

int tdx_parse_bool(const char *v) {
        /* param_set_bool(): a bare parameter means true; then kstrtobool() */
        return parse_module_param_bool(v);
}

static bool is_kvm_intel(const char *module) {
        /* kmod normalizes "-" to "_" in module names */
        return streq(module, "kvm_intel") || streq(module, "kvm-intel");
}

/*
 * Applies the "options kvm_intel ..." lines of one modprobe.d file: every tdx= word overrides the
 * previous one, as the kernel's parameter parser does with the concatenated option string.
 * Returns 1 when the file set tdx (value in *value, -EINVAL for an unparsable one), 0 otherwise.
 */
static int conf_tdx_option(const char *text, int *value) {
        _cleanup_free_ char *joined = NULL;
        size_t n = 0;
        bool found = false;
        char *line, *end;

        /* kmod joins a line ending in a backslash with the next one */
        joined = malloc(strlen(text) + 1);
        if (!joined)
                return -ENOMEM;
        for (const char *p = text; *p; p++) {
                if (p[0] == '\\' && p[1] == '\n') {
                        joined[n++] = ' ';
                        p++;
                        continue;
                }
                joined[n++] = *p;
        }
        joined[n] = 0;

        for (line = joined; line; line = end ? end + 1 : NULL) {
                _cleanup_(strv_freep) char **w = NULL;

                end = strchr(line, '\n');
                if (end)
                        *end = 0;
                line += strspn(line, " \t");
                if (*line == '#' || *line == 0)
                        continue;
                /* a line we cannot split (an unbalanced quote) is one modprobe would not apply either */
                if (cmdline_split(line, &w) < 0 || !w || !w[0] || !w[1] || !streq(w[0], "options") || !is_kvm_intel(w[1]))
                        continue;
                for (char **o = w + 2; *o && (*o)[0] != '#'; o++) {
                        if (streq(*o, "tdx"))
                                *value = tdx_parse_bool(NULL);
                        else if (strneq(*o, "tdx=", 4))
                                *value = tdx_parse_bool(*o + 4);
                        else
                                continue;
                        found = true;
                }
        }
        return found;
}

static const char *path_basename(const char *path) {
        const char *slash = strrchr(path, '/');
        return slash ? slash + 1 : path;
}

static int cmp_basename(const void *a, const void *b) {
        return strcmp(path_basename(*(char *const *) a), path_basename(*(char *const *) b));
}

/*
 * The modprobe.d files modprobe reads, in the order it applies them: sorted by file name over all
 * directories, a name in an earlier directory hiding the same name in a later one.
 */
static int modprobe_conf_files(Host *h, char ***ret) {
        static const char *const dirs[] = {
                "etc/modprobe.d", "run/modprobe.d", "usr/local/lib/modprobe.d", "usr/lib/modprobe.d",
                "lib/modprobe.d",
        };
        _cleanup_(strv_freep) char **paths = NULL;
        int r;

        for (size_t i = 0; i < ELEMENTSOF(dirs); i++) {
                _cleanup_(strv_freep) char **names = NULL;

                if (hostfs_list_dir(host_fs(h), dirs[i], &names) < 0)
                        continue;
                STRV_FOREACH(name, names) {
                        size_t n = strlen(*name);
                        bool hidden = false;
                        char *path;

                        if (n < 6 || !streq(*name + n - 5, ".conf"))
                                continue;
                        STRV_FOREACH(p, paths)
                                if (streq(path_basename(*p), *name))
                                        hidden = true;
                        if (hidden)
                                continue;
                        if (asprintf(&path, "%s/%s", dirs[i], *name) < 0)
                                return -ENOMEM;
                        r = strv_consume(&paths, path);
                        if (r < 0)
                                return r;
                }
        }
        if (paths)
                qsort(paths, strv_length(paths), sizeof(char *), cmp_basename);
        *ret = TAKE_PTR(paths);
        return 0;
}

int tdx_requested(Host *h, const char *cmdline, char **ret_where) {
        _cleanup_(strv_freep) char **files = NULL;
        _cleanup_free_ char *own = NULL, *value = NULL, *where = NULL;
        int r, tdx = 0;

        if (!cmdline) {
                r = hostfs_read_line(host_fs(h), "proc/cmdline", &own);
                if (r < 0)
                        return r;
                cmdline = own;
        }

        r = modprobe_conf_files(h, &files);
        if (r < 0)
                return r;
        STRV_FOREACH(path, files) {
                _cleanup_free_ char *text = NULL;
                int v = 0;

                if (hostfs_read_file(host_fs(h), *path, 1024 * 1024, &text, NULL) < 0)
                        continue;
                r = conf_tdx_option(text, &v);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                tdx = v;
                free(where);
                if (asprintf(&where, "/%s", *path) < 0)
                        return -ENOMEM;
        }

        /* modprobe appends the command line's kvm_intel.* options last, so they win (built-in: the same) */
        r = cmdline_find(cmdline, "kvm_intel.tdx", &value);
        if (r < 0)
                return r;
        if (r > 0) {
                tdx = tdx_parse_bool(value);
                free(where);
                where = strdup("kernel command line");
                if (!where)
                        return -ENOMEM;
        }

        *ret_where = TAKE_PTR(where);
        return tdx > 0;
}
