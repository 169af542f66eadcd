/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The asynchronous polkit check of bus-polkit.h, on public sd-bus calls only.
 *
 * First pass of a message: root callers go ahead; for the others a CheckAuthorization call is sent
 * to org.freedesktop.PolicyKit1 and a query remembering the message is put in the registry. When
 * the answer arrives, the verdict is stored in the query and the original message is put back into
 * its bus's read queue (sd_bus_enqueue_for_read), so sd-bus dispatches it to the same handler again.
 * Second pass: the handler finds the query by its message, takes the verdict and the query is freed.
 */

#include <errno.h>
#include <linux/capability.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <systemd/sd-bus.h>

#include "bus-polkit.h"
#include "macro.h"

#define POLKIT_SERVICE "org.freedesktop.PolicyKit1"
#define POLKIT_PATH "/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_INTERFACE "org.freedesktop.PolicyKit1.Authority"

/* CheckAuthorizationFlags: polkit may ask the caller's authentication agent for a password */
#define POLKIT_CHECK_ALLOW_USER_INTERACTION UINT32_C(1)

/* A person typing a password into the agent gets more than the bus's default 25 s; polkit's own
 * agents give up after a few minutes. Non-interactive queries keep sd-bus's default timeout. */
#define POLKIT_INTERACTIVE_TIMEOUT_USEC (UINT64_C(5) * 60 * 1000 * 1000)

typedef struct PolkitQuery PolkitQuery;

struct PolkitQuery {
        PolkitRegistry *registry;
        PolkitQuery *prev, *next;

        sd_bus_message *request;  /* the caller's method call, dispatched again after the answer */
        char *action;
        bool interactive;

        sd_bus_slot *slot;        /* the pending CheckAuthorization; NULL once answered */
        bool answered;
        int verdict;              /* 1: allowed; < 0: refused, with error */
        sd_bus_error error;
};

struct PolkitRegistry {
        PolkitQuery *queries;
        unsigned n_queries;
};

static PolkitQuery *polkit_query_free(PolkitQuery *q) {
        if (!q)
                return NULL;

        if (q->registry) {
                if (q->prev)
                        q->prev->next = q->next;
                else
                        q->registry->queries = q->next;
                if (q->next)
                        q->next->prev = q->prev;
                q->registry->n_queries--;
        }

        /* dropping the slot of a pending call cancels it: its callback never runs */
        sd_bus_slot_unref(q->slot);
        sd_bus_message_unref(q->request);
        sd_bus_error_free(&q->error);
        free(q->action);
        return mfree(q);
}

static PolkitQuery *polkit_registry_find(PolkitRegistry *r, sd_bus_message *call) {
        if (!r)
                return NULL;
        for (PolkitQuery *q = r->queries; q; q = q->next)
                if (q->request == call)
                        return q;
        return NULL;
}

unsigned polkit_registry_size(const PolkitRegistry *r) {
        return r ? r->n_queries : 0;
}

PolkitRegistry *polkit_registry_free(PolkitRegistry *r) {
        if (!r)
                return NULL;
        while (r->queries)
                polkit_query_free(r->queries);
        return mfree(r);
}

/* polkit's answer (or the bus's error instead of one) as a verdict: 1, or < 0 with *ret_error set.
 * Everything but a clear "authorized" refuses. */
static int polkit_verdict(sd_bus_message *reply, const char *action, bool interactive, sd_bus_error *ret_error) {
        int authorized = 0, challenge = 0;
        int r;

        if (sd_bus_message_is_method_error(reply, NULL)) {
                const sd_bus_error *e = sd_bus_message_get_error(reply);

                if (sd_bus_error_has_names(e, SD_BUS_ERROR_SERVICE_UNKNOWN, SD_BUS_ERROR_NAME_HAS_NO_OWNER))
                        return sd_bus_error_setf(ret_error, SD_BUS_ERROR_ACCESS_DENIED,
                                                 "Not authorized for %s: polkit (%s) is not available, and only "
                                                 "root may do this without it", action, POLKIT_SERVICE);
                return sd_bus_error_setf(ret_error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Not authorized for %s: polkit could not be asked (%s: %s)", action,
                                         strnull(e ? e->name : NULL), strnull(e ? e->message : NULL));
        }

        r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
        if (r > 0)
                r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
        if (r <= 0)
                return sd_bus_error_setf(ret_error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Not authorized for %s: polkit's answer is not the (bba{ss}) of "
                                         "CheckAuthorization", action);

        if (authorized)
                return 1;
        if (challenge && !interactive)
                return sd_bus_error_setf(ret_error, SD_BUS_ERROR_INTERACTIVE_AUTHORIZATION_REQUIRED,
                                         "%s needs authentication: call again with interactive authorization "
                                         "allowed (busctl --allow-interactive-authorization=yes)", action);
        return sd_bus_error_setf(ret_error, SD_BUS_ERROR_ACCESS_DENIED, "Not authorized for %s: polkit refused it",
                                 action);
}

static int polkit_query_answered(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error) {
        PolkitQuery *q = userdata;
        int r;

        q->slot = sd_bus_slot_unref(q->slot);
        q->answered = true;
        q->verdict = polkit_verdict(reply, q->action, q->interactive, &q->error);

        r = sd_bus_enqueue_for_read(sd_bus_message_get_bus(q->request), q->request);
        if (r < 0) {
                /* the handler cannot run again: refuse here rather than leave the caller unanswered */
                (void) sd_bus_reply_method_errnof(q->request, r,
                                                  "The authorization for %s arrived but the call could not be "
                                                  "dispatched again: %m", q->action);
                polkit_query_free(q);
        }
        return 0;
}

static int polkit_query_send(sd_bus_message *call, const char *action, bool interactive, PolkitRegistry *registry,
                             sd_bus_error *error) {
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *pk = NULL;
        sd_bus *bus = sd_bus_message_get_bus(call);
        const char *sender = sd_bus_message_get_sender(call);
        PolkitQuery *q;
        int r;

        /* no sender: a peer-to-peer connection, and polkit only knows bus names */
        if (!sender)
                return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
                                         "Not authorized for %s: the call has no sender polkit could check", action);

        r = sd_bus_message_new_method_call(bus, &pk, POLKIT_SERVICE, POLKIT_PATH, POLKIT_INTERFACE,
                                           "CheckAuthorization");
        if (r >= 0)
                /* subject (kind, details), action, details, flags, cancellation id */
                r = sd_bus_message_append(pk, "(sa{sv})sa{ss}us", "system-bus-name", 1, "name", "s", sender, action, 0,
                                          interactive ? POLKIT_CHECK_ALLOW_USER_INTERACTION : UINT32_C(0), "");
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Could not build the polkit query for %s: %m", action);

        q = calloc(1, sizeof(*q));
        if (!q)
                return sd_bus_error_set_errno(error, ENOMEM);
        q->error = SD_BUS_ERROR_NULL;
        q->interactive = interactive;
        q->action = strdup(action);
        if (!q->action) {
                polkit_query_free(q);
                return sd_bus_error_set_errno(error, ENOMEM);
        }

        r = sd_bus_call_async(bus, &q->slot, pk, polkit_query_answered, q,
                              interactive ? POLKIT_INTERACTIVE_TIMEOUT_USEC : 0);
        if (r < 0) {
                polkit_query_free(q);
                return sd_bus_error_set_errnof(error, -r, "Could not ask polkit about %s: %m", action);
        }
        q->request = sd_bus_message_ref(call);

        q->registry = registry;
        q->next = registry->queries;
        if (q->next)
                q->next->prev = q;
        registry->queries = q;
        registry->n_queries++;
        return 0;
}

int bus_polkit_verify_async(sd_bus_message *call, const char *action, bool interactive, PolkitRegistry **registry,
                            sd_bus_error *error) {
        PolkitQuery *q;
        int r;

        if (!call || !action || !registry)
                return sd_bus_error_set_errno(error, EINVAL);

        /* second pass: polkit answered (or the call is dispatched again while still pending) */
        q = polkit_registry_find(*registry, call);
        if (q) {
                if (!streq(q->action, action)) {
                        r = sd_bus_error_set_errnof(error, ESTALE,
                                                    "Authorization was asked for %s, but the call now needs %s",
                                                    q->action, action);
                        polkit_query_free(q);
                        return r;
                }
                if (!q->answered)
                        return 0;

                r = q->verdict;
                if (r < 0)
                        (void) sd_bus_error_move(error, &q->error);
                polkit_query_free(q);
                return r;
        }

        /* root (the daemon's own uid) needs no polkit; with dbus-daemon the capability itself is not
         * known, so this is the uid test */
        r = sd_bus_query_sender_privilege(call, CAP_SYS_ADMIN);
        if (r < 0)
                return sd_bus_error_set_errnof(error, -r, "Not authorized for %s: the caller's credentials could "
                                               "not be read: %m", action);
        if (r > 0)
                return 1;

        r = sd_bus_message_get_allow_interactive_authorization(call);
        if (r > 0)
                interactive = true;

        if (!*registry) {
                *registry = calloc(1, sizeof(PolkitRegistry));
                if (!*registry)
                        return sd_bus_error_set_errno(error, ENOMEM);
        }

        r = polkit_query_send(call, action, interactive, *registry, error);
        if (r < 0)
                return r;
        return 0;
}
