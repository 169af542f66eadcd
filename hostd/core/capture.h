/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "host.h"

/*
 * "cchostctl capture": runs the check with recording on, then writes into outdir (which must not
 * exist or be empty) every file the probes read, empty placeholders for the device nodes they
 * looked at, and .cchost/capture.json with every register and ioctl answer. "--root outdir"
 * then replays the host exactly. Returns 0 or a negative errno; *ret_detail names the path that
 * failed.
 */
int capture_host(Host *h, Tee tee, const char *outdir, char **ret_detail);
