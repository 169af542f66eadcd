/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

/*
 * Authorization of a bus call that changes the host: the caller is root, or polkit grants it the
 * action. polkit is asked asynchronously, so the daemon keeps serving other callers meanwhile.
 *
 * A method handler calls bus_polkit_verify_async() before it changes anything:
 *
 *         r = bus_polkit_verify_async(m, "io.cchost.manage", false, &d->polkit_registry, error);
 *         if (r < 0)
 *                 return r;
 *         if (r == 0)
 *                 return 1;  (asked polkit: the handler runs again with this message once it answers)
 *         ... act, reply ...
 *
 * Returns 1 when the call may go ahead, 0 when a CheckAuthorization query is pending (the message is
 * re-enqueued on its bus when polkit answers, and the handler's second call gets 1 or the refusal),
 * and a negative errno with *error set when it may not:
 *   org.freedesktop.DBus.Error.AccessDenied: polkit said no, polkit is not on the bus or failed
 *     (authorization fails closed), or the call has no sender to ask about;
 *   org.freedesktop.DBus.Error.InteractiveAuthorizationRequired: polkit wants the caller to
 *     authenticate and neither interactive nor the message's ALLOW_INTERACTIVE_AUTHORIZATION flag
 *     allowed it;
 *   -ESTALE: the second pass of the same message asks for another action than the first.
 * A caller with the uid of the daemon (root) is allowed without asking polkit, as in
 * sd_bus_query_sender_privilege(call, CAP_SYS_ADMIN).
 *
 * *registry is created on first use and owned by the caller; it keeps one query per message, pending
 * or answered. Freeing it cancels the pending ones: their callers get no answer from polkit and their
 * messages are not dispatched again.
 */

#include <stdbool.h>
#include <systemd/sd-bus.h>

#include "macro.h"

typedef struct PolkitRegistry PolkitRegistry;

int bus_polkit_verify_async(sd_bus_message *call, const char *action, bool interactive, PolkitRegistry **registry,
                            sd_bus_error *error);

/* How many queries the registry holds (pending, or answered and not yet taken by the second pass). */
unsigned polkit_registry_size(const PolkitRegistry *r);

/* Frees r (NULL is fine) and every query in it; returns NULL. */
PolkitRegistry *polkit_registry_free(PolkitRegistry *r);
DEFINE_TRIVIAL_CLEANUP_FUNC(PolkitRegistry *, polkit_registry_free);
