/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stddef.h>

#include "test-hooks.h"

/* NULL unless a test front end sets it: see test-hooks.h */
const TestHooks *test_hooks = NULL;
