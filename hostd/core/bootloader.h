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

/*
 * Bounds (README "Bad input"). A GRUB file is read whole up to GRUB_FILE_MAX; a longer line, a
 * value that expands past GRUB_VALUE_MAX or more than GRUB_VARS_MAX variables is refused with its
 * file and line. KERNEL_CMDLINE_MAX: x86's COMMAND_LINE_SIZE (2048) less the NUL; a plan that
 * would give the next boot a longer command line is refused.
 */
#define GRUB_FILE_MAX (1024 * 1024)
#define GRUB_LINE_MAX 4096
#define GRUB_VALUE_MAX 4096
#define GRUB_VARS_MAX 256
#define KERNEL_CMDLINE_MAX 2047

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

/*
 * Whether arg is one kernel argument cchost writes into a boot configuration: printable ASCII
 * without spaces, quotes, backslashes or the characters the shell or GRUB's script parser give a
 * meaning ($ ` ; | & < > ( ) { }), not starting with '#' and not "--" (which hands the rest to
 * init). -EINVAL with *ret_reason saying which byte is wrong.
 */
int kernel_arg_check(const char *arg, char **ret_reason);

/* Bytes of the command line the kernel gets from these words (one space between, quotes kept). */
size_t cmdline_words_length(char *const *words);

/*
 * The text of cchost's drop-in that appends words to GRUB_CMDLINE_LINUX. Every word goes through
 * the one shell-quoting function, so bash reads back exactly these bytes whatever they are.
 */
int grub_dropin_format(char *const *words, char **ret);

/*
 * Evaluates one GRUB file's text on its own, as bootloader_plan() does for the files of a tree
 * (path names the file in errors). *ret_cmdline: GRUB_CMDLINE_LINUX, a space and
 * GRUB_CMDLINE_LINUX_DEFAULT; *ret_edited (optional): the text with the words in remove taken
 * out of the command-line assignments. -EBADMSG with *ret_error naming path and line when the
 * text cannot be evaluated safely.
 */
int grub_eval_text(const char *path, const char *text, char *const *remove, char **ret_cmdline,
                   char **ret_edited, char **ret_error);
