/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Private to the hardening library: the helpers the check families (check-*.c) and enforce share,
 * and the check functions the type table in check.c names. Not part of harden.h.
 */

#include <stdbool.h>
#include <sys/stat.h>

#include "harden.h"

/* check-util.c */
/* Trims whitespace at both ends, in place. */
char *harden_strstrip(char *s);
/* A copy with whitespace runs collapsed to one space, trimmed; NULL when out of memory. */
char *harden_normalize(const char *s);
/* item is one of the comma-separated list. */
bool harden_list_contains(const char *list, const char *item, bool icase);
/* The finding for a missing file, as the rule's "missing: pass|fail|skip|unknown" says (default unknown). */
FindingStatus harden_missing(const HardenRule *r, Finding *f, const char *path, int error);
/* Reads a root-relative file (capped at 1 MiB). */
int harden_read_file(Host *h, const char *path, char **ret);
/* path without its leading slashes: the root-relative form of a display path. */
const char *harden_rel(const char *path);
/* The same, with the stat of the file (st_mode 0: the path did not resolve, see hostfs_read_file_stat()). */
int harden_read_file_stat(Host *h, const char *path, char **ret, struct stat *ret_st);
/*
 * The *suffix files of the fragment directories dirs (precedence order), by name, each from its
 * first directory where it exists. A name listed in one directory only is not looked at again:
 * when reading it fails with st_mode 0 (harden_read_file_stat()), it is gone, and callers skip it.
 */
int harden_conf_files(Host *h, const char *const *dirs, const char *suffix, char ***ret);
/*
 * Evidence from a file that is not world-readable (mode & 0004 == 0 under the root; a file that
 * cannot be looked at counts as such) is never copied into findings: they go to stdout, the 0644
 * reports and the state files. Say whether it matched, show HARDEN_REDACTED for the value.
 */
#define HARDEN_REDACTED "<redacted>"
bool harden_world_readable(Host *h, const char *path);
/* Two sysctl keys are the same ('.' and '/' are interchangeable). */
bool harden_sysctl_key_eq(const char *a, const char *b);

/* check-index.c: the sysctl.d and modprobe.d sets and the sshd configuration of one scan, read once on first use */
typedef struct HardenIndex HardenIndex;
HardenIndex *harden_index_new(void);
HardenIndex *harden_index_free(HardenIndex *ix);
DEFINE_TRIVIAL_CLEANUP_FUNC(HardenIndex *, harden_index_free);
/*
 * The persisted value of a sysctl key (the last assignment of the drop-ins by name, then
 * /etc/sysctl.conf) and the display path of its file: 1, 0 when not set, <0 the configuration
 * cannot be read. The strings belong to the index.
 */
int harden_index_sysctl(Host *h, HardenIndex *ix, const char *key, const char **ret_value, const char **ret_source);
typedef struct HardenModprobe {
        bool blacklisted;
        const char *install; /* the last "install MODULE CMD" command, NULL when none; owned by the index */
        bool install_secret; /* its file is not world-readable */
} HardenModprobe;
/* What modprobe.d says of module: 0, or <0 and, when a file could not be read, its display path. */
int harden_index_modprobe(Host *h, HardenIndex *ix, const char *module, HardenModprobe *ret, const char **ret_error_file);

/*
 * The sshd option as sshd settles it (sshd_config, Include expanded in place, the first value
 * wins, Match ends the file it is in): 1 with the value, the display path of its file and whether
 * that file is not world-readable, 0 when not set, <0 when a file read before the first value
 * cannot be read (-ENOENT: no sshd_config). The strings belong to the index.
 */
int harden_index_sshd(Host *h, HardenIndex *ix, const char *key, const char **ret_value, const char **ret_source,
                      bool *ret_secret);

/* check-files.c */
/* The options field of the fstab line mounting path (the last one): 1, 0 when none, <0 error. */
int fstab_options(const char *fstab, const char *path, char **ret);
/* A user or group name (or number) looked up in the root's /etc/passwd or /etc/group: 0 and the id, or <0. */
int harden_lookup_id(Host *h, const char *db, const char *name, long *ret);

/* check-services.c */
/* 1 and the path when a unit file exists (not counting a mask), 0 when none, <0 no systemd dirs. */
int harden_unit_file(Host *h, const char *unit, char **ret_path);

/* The check functions, by family. */
FindingStatus harden_check_sysctl(Host *h, HardenIndex *ix, const HardenRule *r, Finding *f);
FindingStatus harden_check_cmdline(Host *h, const HardenRule *r, Finding *f);
FindingStatus harden_check_modprobe_blacklist(Host *h, HardenIndex *ix, const HardenRule *r, Finding *f);
FindingStatus harden_check_sysfs_value(Host *h, const HardenRule *r, Finding *f);
FindingStatus harden_check_kconfig(Host *h, const HardenRule *r, Finding *f);

FindingStatus harden_check_mount_option(Host *h, const HardenRule *r, Finding *f);
FindingStatus harden_check_file_mode(Host *h, const HardenRule *r, Finding *f);
FindingStatus harden_check_file_owner(Host *h, const HardenRule *r, Finding *f);
FindingStatus harden_check_file_exists(Host *h, const HardenRule *r, Finding *f);
FindingStatus harden_check_file_line(Host *h, const HardenRule *r, Finding *f);

FindingStatus harden_check_sshd_option(Host *h, HardenIndex *ix, const HardenRule *r, Finding *f);
FindingStatus harden_check_unit_masked(Host *h, const HardenRule *r, Finding *f);
FindingStatus harden_check_unit_enabled(Host *h, const HardenRule *r, Finding *f);

FindingStatus harden_check_efivar_secureboot(Host *h, const HardenRule *r, Finding *f);
FindingStatus harden_check_tpm_present(Host *h, const HardenRule *r, Finding *f);
