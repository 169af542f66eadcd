/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/* What cchost needs from libvirt's domain capabilities XML (virConnectGetDomainCapabilities). */
typedef struct DomCaps {
        char *emulator;          /* <path> */
        bool sev;                /* <features><sev supported='yes'> */
        long max_guests;         /* <sev><maxGuests>, -1 when absent */
        long max_es_guests;      /* <sev><maxESGuests>, -1 when absent */
        bool sectypes_listed;    /* <features><launchSecurity> lists sectype values (libvirt >= 10.5) */
        bool sectype_sev_snp;
        bool sectype_tdx;
        bool tdx;                /* <features><tdx supported='yes'> */
} DomCaps;

/* Parses the XML (no network, no entity expansion). -EBADMSG when it is not domain capabilities. */
int domcaps_parse(const char *xml, size_t size, DomCaps *ret);
void domcaps_done(DomCaps *c);
