/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A boolean kernel parameter as the kernel itself reads it (kstrtobool, lib/kstrtox.c): only the
 * first character decides, "y" "Y" "t" "T" "1" true and "n" "N" "f" "F" "0" false, and "o"/"O"
 * followed by "n"/"N" (on) true or "f"/"F" (off) false; whatever follows is ignored, so "yes",
 * "true", "Yellow" and "Y\n" are all true. Anything else, the empty string and NULL (an argument
 * given without "=") are -EINVAL. Returns 1 or 0.
 *
 * Every boolean kernel or module parameter cchost reads (command line, sysfs, modprobe.d) or
 * writes goes through this one parser, so cchost agrees with the kernel on what a value means.
 */
int parse_kernel_bool(const char *s);

/*
 * A bool module parameter as param_set_bool() (kernel/params.c) reads it: given without "=" (s is
 * NULL) it means true, otherwise as parse_kernel_bool().
 */
int parse_module_param_bool(const char *s);
