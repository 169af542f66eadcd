/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

/*
 * libvirt is opened with dlopen() the first time the live backend needs it, not linked: loading it
 * (and the libraries it pulls in) costs tens of milliseconds, which every cchostctl run would pay
 * although only the libvirt and QEMU checks on a live root use it. The headers still come from
 * libvirt-dev, so the prototypes are checked at compile time.
 */
extern typeof(virConnectOpen) *sym_virConnectOpen;
extern typeof(virConnectOpenReadOnly) *sym_virConnectOpenReadOnly;
extern typeof(virConnectClose) *sym_virConnectClose;
extern typeof(virConnectGetDomainCapabilities) *sym_virConnectGetDomainCapabilities;
extern typeof(virConnectNumOfDomains) *sym_virConnectNumOfDomains;
extern typeof(virGetLastErrorMessage) *sym_virGetLastErrorMessage;
extern typeof(virSetErrorFunc) *sym_virSetErrorFunc;

/* Loads libvirt.so.0 once: 0, or -EOPNOTSUPP when libvirt is not installed (a detail says why). */
int dlopen_libvirt(const char **ret_why);
