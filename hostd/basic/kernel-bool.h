/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * A boolean kernel parameter as the kernel reads it: param_set_bool() takes a bare parameter (v NULL)
 * as true, otherwise kstrtobool(), which looks at the first letters only: 1 y Y t T "on" are true,
 * 0 n N f F "off" are false. 1, 0 or -EINVAL (the kernel rejects the value).
 */
int parse_kernel_bool(const char *v);
