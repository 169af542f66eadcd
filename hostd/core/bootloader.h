/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "config.h"
#include "host.h"

/*
 * Kernel command line configuration. GRUB: /etc/default/grub and the drop-ins in
 * /etc/default/grub.d (the *.cfg files) are shell; we evaluate the subset real files use (NAME="...",
 * NAME='...', NAME=word, $NAME and ${NAME} inside double quotes) and refuse anything else rather
 * than guess. Additions go to our own drop-in; removals edit the word out of the assignment where
 * it is written, leaving every other word, quote and comment as it was. BLS/systemd-boot:
 * /etc/kernel/cmdline, edited in place.
 */

#define GRUB_DEFAULT_PATH "etc/default/grub"
#define GRUB_DROPIN_DIR "etc/default/grub.d"
#define GRUB_CCHOST_DROPIN "etc/default/grub.d/99-cchost.cfg"
#define BLS_CMDLINE_PATH "etc/kernel/cmdline"

/* The bootloader in use: as configured, else GRUB when /etc/default/grub exists, else BLS. */
Bootloader bootloader_detect(Host *h, Bootloader configured);

/* A file to (re)write, as computed by bootloader_plan(). */
typedef struct BootFile {
        char *path;      /* root-relative */
        char *content;
} BootFile;

typedef struct BootPlan {
        BootFile *files;
        size_t n_files;
        char **argv;     /* the program that makes the boot entries (update-grub, kernel-install) */
} BootPlan;

void boot_plan_done(BootPlan *p);

/*
 * What must change so the next boot's command line has every word in add and none of the keys
 * in remove ("iommu=pt" removes exactly that word; "nosmt" any nosmt). Returns 0 with an empty plan
 * when the configuration already says so. -EBADMSG with *ret_error naming file and line when a file
 * cannot be evaluated safely.
 */
int bootloader_plan(Host *h, Bootloader b, char *const *add, char *const *remove, BootPlan *ret,
                    char **ret_error);

/* The program that writes the boot entries from the configuration as it is (update-grub, kernel-install). */
int bootloader_refresh_argv(Host *h, Bootloader b, char ***ret, char **ret_error);

/* The command line the configuration gives the next boot (GRUB: LINUX + LINUX_DEFAULT). */
int bootloader_next_cmdline(Host *h, Bootloader b, char **ret, char **ret_error);
