/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>

#include "engine.h"
#include "kernel-bool.h"
#include "parse-util.h"
#include "probe.h"
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

/* kmod normalizes "-" to "_" in module names */
static bool module_name_eq(const char *a, const char *b) {
        for (; *a && *b; a++, b++)
                if (*a != *b && !((*a == '-' || *a == '_') && (*b == '-' || *b == '_')))
                        return false;
        return *a == *b;
}

/*
 * Applies the "options MODULE ..." lines of one modprobe.d file: every PARAM= word overrides the
 * previous one, as the kernel's parameter parser does with the concatenated option string.
 * Returns 1 when the file set the parameter (value in *value, -EINVAL for an unparsable one), 0 otherwise.
 */
static int conf_bool_option(const char *text, const char *module, const char *param, int *value) {
        size_t plen = strlen(param);
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
                if (cmdline_split(line, &w) < 0 || !w || !w[0] || !w[1] || !streq(w[0], "options") ||
                    !module_name_eq(w[1], module))
                        continue;
                for (char **o = w + 2; *o && (*o)[0] != '#'; o++) {
                        if (streq(*o, param))
                                *value = parse_module_param_bool(NULL);
                        else if (strneq(*o, param, plen) && (*o)[plen] == '=')
                                *value = parse_module_param_bool(*o + plen + 1);
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

/* The modprobe.d files of this run and their text (NULL: unreadable), read once: every option asked shares them. */
typedef struct ModprobeMemo {
        int error;
        char **paths;
        char **texts;     /* parallel to paths */
} ModprobeMemo;

static void modprobe_memo_free(void *p) {
        ModprobeMemo *m = p;
        size_t n = strv_length(m->paths);

        for (size_t i = 0; m->texts && i < n; i++)
                free(m->texts[i]);
        free(m->texts);
        strv_free(m->paths);
        free(m);
}

static int modprobe_memo(ProbeContext *c, const ModprobeMemo **ret) {
        ModprobeMemo *m;
        size_t n;
        int r;

        m = engine_run_memo(c->run, "tdx.modprobe.d");
        if (!m) {
                m = calloc(1, sizeof(*m));
                if (!m)
                        return -ENOMEM;
                m->error = modprobe_conf_files(c->host, &m->paths);
                n = strv_length(m->paths);
                if (m->error >= 0) {
                        m->texts = calloc(n + 1, sizeof(char *));
                        if (!m->texts)
                                m->error = -ENOMEM;
                }
                for (size_t i = 0; m->error >= 0 && i < n; i++)
                        if (hostfs_read_file(host_fs(c->host), m->paths[i], 1024 * 1024, &m->texts[i], NULL) < 0)
                                m->texts[i] = NULL;
                if (m->error == -ENOMEM) {
                        modprobe_memo_free(m);
                        return -ENOMEM;
                }
                r = engine_run_memo_put(c->run, "tdx.modprobe.d", m, modprobe_memo_free);
                if (r < 0)
                        return r; /* freed by engine_run_memo_put() */
        }
        if (m->error < 0)
                return m->error;
        *ret = m;
        return 0;
}

int kvm_bool_option(ProbeContext *c, const char *cmdline, const char *module, const char *param, int *ret_value,
                    char **ret_where) {
        _cleanup_free_ char *own = NULL, *value = NULL, *where = NULL, *key = NULL;
        const ModprobeMemo *m;
        size_t n;
        int r, v = 0;

        if (!cmdline) {
                r = hostfs_read_line(host_fs(c->host), "proc/cmdline", &own);
                if (r < 0)
                        return r;
                cmdline = own;
        }

        r = modprobe_memo(c, &m);
        if (r < 0)
                return r;
        n = strv_length(m->paths);
        for (size_t i = 0; i < n; i++) {
                int fv = 0;

                if (!m->texts[i])
                        continue;
                r = conf_bool_option(m->texts[i], module, param, &fv);
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                v = fv;
                free(where);
                if (asprintf(&where, "/%s", m->paths[i]) < 0)
                        return -ENOMEM;
        }

        /* modprobe appends the command line's MODULE.* options last, so they win (built-in: the same) */
        if (asprintf(&key, "%s.%s", module, param) < 0)
                return -ENOMEM;
        r = cmdline_find(cmdline, key, &value);
        if (r < 0)
                return r;
        if (r > 0) {
                v = parse_module_param_bool(value);
                free(where);
                where = strdup("kernel command line");
                if (!where)
                        return -ENOMEM;
        }

        *ret_value = v;
        *ret_where = TAKE_PTR(where);
        return *ret_where ? 1 : 0;
}

int tdx_requested(ProbeContext *c, const char *cmdline, char **ret_where) {
        int r, v = 0;

        r = kvm_bool_option(c, cmdline, "kvm_intel", "tdx", &v, ret_where);
        if (r < 0)
                return r;
        return v > 0;
}

int cmdline_no_hibernation(const char *cmdline) {
        _cleanup_(strv_freep) char **words = NULL;
        int r;

        r = cmdline_find(cmdline, "nohibernate", NULL);
        if (r != 0)
                return r;
        /* hibernate_setup(): any hibernate= value starting with "no" except noresume and nocompress */
        r = cmdline_find_all(cmdline, "hibernate", &words);
        if (r < 0)
                return r;
        STRV_FOREACH(w, words) {
                const char *v = strchr(*w, '=');

                if (v && strneq(v + 1, "no", 2) && !strneq(v + 1, "noresume", 8) && !strneq(v + 1, "nocompress", 10))
                        return 1;
        }
        return 0;
}

static bool word_in(const char *list, const char *word) {
        size_t n = strlen(word);

        for (const char *p = list; (p = strstr(p, word)); p += n)
                if ((p == list || strchr(" \t[", p[-1])) && (p[n] == 0 || strchr(" \t\n]", p[n])))
                        return true;
        return false;
}

int tdx_hibernation(Host *h, const char *cmdline, TdxHibernation *ret) {
        _cleanup_free_ char *state = NULL, *disk = NULL, *lockdown = NULL;
        int r;

        /*
         * kernel/power/main.c lists "disk" in /sys/power/state only while hibernation_available(), and
         * kernel/power/hibernate.c shows "[disabled]" in /sys/power/disk otherwise; without
         * CONFIG_HIBERNATION there is no /sys/power/disk at all.
         */
        r = hostfs_read_line(host_fs(h), "sys/power/state", &state);
        if (r == -ENOENT) {
                r = hostfs_exists(host_fs(h), "sys/power");
                if (r < 0)
                        return r;
                /* a /sys/power without state: no sleep states at all, so no hibernation either */
                *ret = r > 0 ? TDX_HIBERNATION_NOT_BUILT : TDX_HIBERNATION_UNKNOWN;
                return 0;
        }
        if (r < 0)
                return r;
        if (word_in(state, "disk")) {
                *ret = TDX_HIBERNATION_AVAILABLE;
                return 0;
        }
        r = hostfs_read_line(host_fs(h), "sys/power/disk", &disk);
        if (r == -ENOENT) {
                *ret = TDX_HIBERNATION_NOT_BUILT;
                return 0;
        }
        if (r < 0)
                return r;
        if (!word_in(disk, "[disabled]")) {
                /* the two files disagree: one of them was not captured from this boot */
                *ret = TDX_HIBERNATION_UNKNOWN;
                return 0;
        }
        r = cmdline_no_hibernation(cmdline);
        if (r < 0)
                return r;
        if (r > 0) {
                *ret = TDX_HIBERNATION_NOHIBERNATE;
                return 0;
        }
        /* hibernation_available() is false under any lockdown level (LOCKDOWN_HIBERNATION is an integrity one) */
        if (hostfs_read_line(host_fs(h), "sys/kernel/security/lockdown", &lockdown) >= 0 &&
            (word_in(lockdown, "[integrity]") || word_in(lockdown, "[confidentiality]"))) {
                *ret = TDX_HIBERNATION_LOCKDOWN;
                return 0;
        }
        /* secret memory or CXL memory in use: a state of the running system, not of the next boot */
        *ret = TDX_HIBERNATION_RUNTIME;
        return 0;
}

static const char *const hibernation_table[_TDX_HIBERNATION_MAX] = {
        [TDX_HIBERNATION_UNKNOWN] = "not shown (no /sys/power)",
        [TDX_HIBERNATION_AVAILABLE] = "available",
        [TDX_HIBERNATION_NOHIBERNATE] = "disabled by nohibernate",
        [TDX_HIBERNATION_LOCKDOWN] = "disabled by kernel lockdown",
        [TDX_HIBERNATION_NOT_BUILT] = "not built into this kernel",
        [TDX_HIBERNATION_RUNTIME] = "disabled for now (secret or CXL memory in use)",
};

const char *tdx_hibernation_to_string(TdxHibernation h) {
        return h >= 0 && h < _TDX_HIBERNATION_MAX ? hibernation_table[h] : NULL;
}
