/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "build-config.h"
#include "config.h"
#include "daemon.h"
#include "log.h"
#if CCHOST_TEST_HOOKS
#include "cli.h"
#endif

/*
 * cchostd: the host daemon. Runs the cchost engine (the library cchostctl links) under sd-event and
 * serves io.cchost.Host1 on the system bus (or --bus-address / --user-bus).
 * Exit codes: 0 stopped cleanly (SIGTERM, SIGINT), 2 usage or runtime error.
 */

#define EXIT_USAGE 2

static void help(void) {
        printf("cchostd [OPTIONS]\n\n"
               "The cchost host daemon: keeps the node's check report current and serves it, and the\n"
               "changes to the host, as io.cchost.Host1 on D-Bus.\n\n"
               "  -h --help              Show this help\n"
               "     --version           Show the version and the libraries compiled in\n"
               "  -r --root=DIR          Look at the host tree under DIR instead of / (a capture or\n"
               "                         a fixture host)\n"
               "     --config=FILE       Configuration file on this machine (default: under the\n"
               "                         root, /etc/cchost/cchost.yaml); it must exist\n"
               "     --bus-address=ADDR  Connect to this bus (e.g. unix:path=/run/x) instead of the\n"
               "                         system bus\n"
               "     --user-bus          Connect to the user bus instead of the system bus\n"
               "  -v --verbose           Log debug messages\n");
}

enum {
        ARG_VERSION = 0x100,
        ARG_CONFIG,
        ARG_BUS_ADDRESS,
        ARG_USER_BUS,
};

/* An option that takes a value may be given once. */
static int set_once(char **field, const char *name, const char *value) {
        if (*field) {
                log_error("--%s given twice (\"%s\", then \"%s\"); give it once", name, *field, value);
                return -EINVAL;
        }
        *field = strdup(value);
        return *field ? 0 : log_error_errno(-ENOMEM, "Out of memory");
}

static int parse_argv(Daemon *d, int argc, char *argv[]) {
        static const struct option options[] = {
                { "help", no_argument, NULL, 'h' },
                { "version", no_argument, NULL, ARG_VERSION },
                { "root", required_argument, NULL, 'r' },
                { "config", required_argument, NULL, ARG_CONFIG },
                { "bus-address", required_argument, NULL, ARG_BUS_ADDRESS },
                { "user-bus", no_argument, NULL, ARG_USER_BUS },
                { "verbose", no_argument, NULL, 'v' },
                {}
        };
        struct stat st;
        int c, r;

        while ((c = getopt_long(argc, argv, "hr:v", options, NULL)) >= 0)
                switch (c) {
                case 'h':
                        help();
                        return 0;
                case ARG_VERSION:
                        printf("cchostd %s\n%s\n", PACKAGE_VERSION, CCHOST_FEATURES);
                        return 0;
                case 'r':
                        r = set_once(&d->root, "root", optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_CONFIG:
                        r = set_once(&d->config_path, "config", optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_BUS_ADDRESS:
                        r = set_once(&d->bus_address, "bus-address", optarg);
                        if (r < 0)
                                return r;
                        break;
                case ARG_USER_BUS:
                        d->user_bus = true;
                        break;
                case 'v':
                        log_set_max_level(LOG_DEBUG);
                        break;
                default:
                        return -EINVAL;
                }
        if (optind < argc)
                return log_error_errno(-EINVAL, "cchostd takes no arguments, got \"%s\"; see cchostd --help", argv[optind]);
        if (d->bus_address && d->user_bus)
                return log_error_errno(-EINVAL, "--bus-address and --user-bus exclude each other");
        if (!d->root && !(d->root = strdup("/")))
                return log_error_errno(-ENOMEM, "Out of memory");
        if (stat(d->root, &st) < 0 || !S_ISDIR(st.st_mode))
                return log_error_errno(-ENOTDIR, "--root %s: not a directory", d->root);
        return 1;
}

/* A file the operator named must be there and valid before the daemon serves anything. */
static int check_config(Daemon *d) {
        HostOptions o = { .root = d->root, .config_path = d->config_path };
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_free_ char *error = NULL;
        Config c;
        int r;

        if (!d->config_path)
                return 0;
        r = host_new(&o, &h);
        if (r < 0)
                return log_error_errno(r, "Cannot use %s as the host root: %m", d->root);
        r = config_load(h, NULL, &c, &error);
        if (r < 0)
                return log_error_errno(r, "%s", error ?: "Cannot read the configuration: %m");
        config_done(&c);
        return 0;
}

int main(int argc, char *argv[]) {
        _cleanup_(daemon_freep) Daemon *d = NULL;
        int r;

        r = daemon_new(&d);
        if (r < 0)
                return log_error_errno(r, "Out of memory"), EXIT_USAGE;
        r = parse_argv(d, argc, argv);
        if (r <= 0)
                return r < 0 ? EXIT_USAGE : 0;
#if CCHOST_TEST_HOOKS
        if (test_hooks_from_env() < 0)
                return EXIT_USAGE;
        d->hold_file = getenv("CCHOSTD_TEST_JOB_HOLD");
        d->step_hold_file = getenv("CCHOSTD_TEST_STEP_HOLD");
#endif
        r = check_config(d);
        if (r < 0)
                return EXIT_USAGE;
        r = daemon_start(d);
        if (r < 0)
                return EXIT_USAGE;
        r = daemon_run(d);
        return r < 0 ? EXIT_USAGE : 0;
}
