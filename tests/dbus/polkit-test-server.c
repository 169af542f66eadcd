/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * polkit-test-server --address ADDRESS --name NAME: a tiny sd-bus service for tests/dbus/test_polkit.py.
 * It owns NAME on the bus at ADDRESS and serves /io/cchost/PolkitTest, interface io.cchost.PolkitTest1,
 * whose methods are guarded by bus_polkit_verify_async() like cchostd's mutating methods:
 *
 *   Do(b interactive) -> u runs      "io.cchost.manage"; runs = how often the action ran so far
 *   RotateKeys() -> u runs           "io.cchost.rotate-keys"
 *   Stale() -> u runs                asks "io.cchost.manage" on a message's first pass and
 *                                    "io.cchost.rotate-keys" on its second (the -ESTALE case)
 *   Counts() -> (uuuu)               runs of Do, RotateKeys, Stale, and the queries in the registry
 *
 * It prints "READY" on stdout once the name is taken, and on SIGTERM/SIGINT frees the registry
 * (with whatever query is still pending), closes the bus, prints the counts and exits 0.
 */

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "bus-polkit.h"
#include "macro.h"

typedef struct Server {
        sd_event *event;
        sd_bus *bus;
        PolkitRegistry *polkit_registry;
        uint32_t do_runs, rotate_runs, stale_runs;
        uint64_t stale_passes;
} Server;

static void server_done(Server *s) {
        /* the registry first: its pending queries hold slots on the bus */
        s->polkit_registry = polkit_registry_free(s->polkit_registry);
        s->bus = sd_bus_flush_close_unref(s->bus);
        s->event = sd_event_unref(s->event);
}

static int method_do(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Server *s = userdata;
        int interactive;
        int r;

        r = sd_bus_message_read(m, "b", &interactive);
        if (r < 0)
                return r;

        r = bus_polkit_verify_async(m, "io.cchost.manage", interactive, &s->polkit_registry, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;  /* polkit is asked; this handler runs again with its answer */

        s->do_runs++;
        return sd_bus_reply_method_return(m, "u", s->do_runs);
}

static int method_rotate_keys(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Server *s = userdata;
        int r;

        r = bus_polkit_verify_async(m, "io.cchost.rotate-keys", false, &s->polkit_registry, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;

        s->rotate_runs++;
        return sd_bus_reply_method_return(m, "u", s->rotate_runs);
}

static int method_stale(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Server *s = userdata;
        const char *action = s->stale_passes++ % 2 == 0 ? "io.cchost.manage" : "io.cchost.rotate-keys";
        int r;

        r = bus_polkit_verify_async(m, action, false, &s->polkit_registry, error);
        if (r < 0)
                return r;
        if (r == 0)
                return 1;

        s->stale_runs++;
        return sd_bus_reply_method_return(m, "u", s->stale_runs);
}

static int method_counts(sd_bus_message *m, void *userdata, sd_bus_error *error) {
        Server *s = userdata;

        return sd_bus_reply_method_return(m, "(uuuu)", s->do_runs, s->rotate_runs, s->stale_runs,
                                          (uint32_t) polkit_registry_size(s->polkit_registry));
}

static const sd_bus_vtable polkit_test_vtable[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD_WITH_ARGS("Do", SD_BUS_ARGS("b", interactive), SD_BUS_RESULT("u", runs), method_do,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("RotateKeys", SD_BUS_NO_ARGS, SD_BUS_RESULT("u", runs), method_rotate_keys,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Stale", SD_BUS_NO_ARGS, SD_BUS_RESULT("u", runs), method_stale,
                                SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_METHOD_WITH_ARGS("Counts", SD_BUS_NO_ARGS,
                                SD_BUS_RESULT("(uuuu)", counts), method_counts, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
};

static int run(const char *address, const char *name) {
        _cleanup_(server_done) Server s = {};
        sigset_t mask;
        int r;

        sigemptyset(&mask);
        sigaddset(&mask, SIGTERM);
        sigaddset(&mask, SIGINT);
        if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
                return negative_errno();

        r = sd_event_new(&s.event);
        if (r >= 0)
                r = sd_event_add_signal(s.event, NULL, SIGTERM, NULL, NULL);
        if (r >= 0)
                r = sd_event_add_signal(s.event, NULL, SIGINT, NULL, NULL);
        if (r < 0) {
                fprintf(stderr, "polkit-test-server: event loop: %s\n", strerror(-r));
                return r;
        }

        r = sd_bus_new(&s.bus);
        if (r >= 0)
                r = sd_bus_set_address(s.bus, address);
        if (r >= 0)
                r = sd_bus_set_bus_client(s.bus, true);
        if (r >= 0)
                r = sd_bus_start(s.bus);
        if (r < 0) {
                fprintf(stderr, "polkit-test-server: connecting to %s: %s\n", address, strerror(-r));
                return r;
        }

        r = sd_bus_add_object_vtable(s.bus, NULL, "/io/cchost/PolkitTest", "io.cchost.PolkitTest1",
                                     polkit_test_vtable, &s);
        if (r >= 0)
                r = sd_bus_request_name(s.bus, name, 0);
        if (r >= 0)
                r = sd_bus_attach_event(s.bus, s.event, SD_EVENT_PRIORITY_NORMAL);
        if (r < 0) {
                fprintf(stderr, "polkit-test-server: serving %s: %s\n", name, strerror(-r));
                return r;
        }

        printf("READY\n");
        fflush(stdout);

        r = sd_event_loop(s.event);
        if (r < 0) {
                fprintf(stderr, "polkit-test-server: event loop: %s\n", strerror(-r));
                return r;
        }
        printf("do=%u rotate=%u stale=%u pending=%u\n", s.do_runs, s.rotate_runs, s.stale_runs,
               polkit_registry_size(s.polkit_registry));
        fflush(stdout);
        return 0;
}

int main(int argc, char *argv[]) {
        static const struct option options[] = {
                { "address", required_argument, NULL, 'a' },
                { "name",    required_argument, NULL, 'n' },
                {}
        };
        const char *address = NULL, *name = NULL;
        int c;

        while ((c = getopt_long(argc, argv, "", options, NULL)) >= 0)
                switch (c) {
                case 'a':
                        if (address) {
                                fprintf(stderr, "polkit-test-server: --address given twice\n");
                                return 2;
                        }
                        address = optarg;
                        break;
                case 'n':
                        if (name) {
                                fprintf(stderr, "polkit-test-server: --name given twice\n");
                                return 2;
                        }
                        name = optarg;
                        break;
                default:
                        return 2;
                }
        if (!address || !name || optind != argc) {
                fprintf(stderr, "usage: polkit-test-server --address ADDRESS --name NAME\n");
                return 2;
        }

        return run(address, name) < 0 ? 1 : 0;
}
