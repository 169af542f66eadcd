/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include "host.h"
#include "report.h"

/*
 * Runs every probe that applies to the host's TEE (tee_override = _TEE_INVALID: choose from the
 * CPU vendor) in table order. A probe whose parent failed or was skipped is skipped itself.
 * Returns 0 with a report, or a negative errno for out-of-memory only.
 */
int engine_check(Host *h, Tee tee_override, Report **ret);

/* The TEE a CPU vendor offers. */
Tee tee_for_vendor(CpuVendor v);
