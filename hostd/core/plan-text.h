/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdio.h>

#include "action.h"
#include "host.h"

/*
 * The unified diff (3 lines of context, as diff -u) that turns old into new; path names the file in
 * the "---"/"+++" lines, old NULL is a new file ("--- /dev/null"). -EFBIG for files too long to diff.
 */
int plan_file_diff(const char *path, const char *old, const char *new, char **ret);
/* Sets Action.diff of every file write: the file as it is under the root against the planned content. */
int plan_add_diffs(Host *h, Plan *p);
/* The action's diff, indented under it in the text plan (nothing without one). */
void plan_print_diff(const Action *a, FILE *out);
