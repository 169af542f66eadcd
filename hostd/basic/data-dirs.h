/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Where cchost's shipped data (hardening profiles, ...) lives. An installed binary uses the
 * directories the build configured (PROFILE_DIR); a binary that runs from its own build tree (the
 * path of /proc/self/exe lies under the meson build root it was compiled in) uses the source tree
 * instead, so `build/hostd/cli/cchostctl harden check` works without installing. No environment
 * variable changes this.
 */
const char *data_dir_profiles(void);

/* Whether the running executable lies under the build root it was compiled in. */
int running_from_build_tree(void);
