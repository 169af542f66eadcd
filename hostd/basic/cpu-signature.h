/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdint.h>

/*
 * The family, model and stepping of a CPUID(1).EAX signature (Intel SDM vol. 2A, CPUID; AMD APM
 * vol. 3, CPUID Fn0000_0001_EAX): the family is the base family plus the extended family when the
 * base family is 0xf; the extended model counts when the family is 6 or 0xf and above. The one
 * decoding for the host's CPU identity and the microcode file names and headers.
 */
unsigned x86_family(uint32_t sig);
unsigned x86_model(uint32_t sig);
unsigned x86_stepping(uint32_t sig);
