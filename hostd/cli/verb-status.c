/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "escape.h"
#include "live-dl.h"
#include "log.h"
#include "strv.h"

/*
 * status and monitor: the front end of cchostd (README "Daemon"). They talk to io.cchost.Host1 on the
 * system bus ($DBUS_SYSTEM_BUS_ADDRESS honoured by sd_bus_open_system()) or on --bus-address ADDR,
 * through libsystemd loaded with dlopen() (live-dl.h), and read nothing of the host themselves.
 * Every string from the daemon goes through text_esc() before it reaches the terminal.
 */

#define BUS_NAME "io.cchost.Host1"
#define BUS_PATH "/io/cchost/Host1"
#define BUS_IFACE "io.cchost.Host1"

#define ANSI_RED "\033[1;31m"
#define ANSI_GREEN "\033[32m"
#define ANSI_YELLOW "\033[33m"
#define ANSI_BOLD "\033[1m"
#define ANSI_RESET "\033[0m"

static void bus_closep(sd_bus **b) {
        if (*b)
                sd_bus_flush_close_unref(*b);
}

static void bus_message_unrefp(sd_bus_message **m) {
        if (*m)
                sd_bus_message_unref(*m);
}

static const char *bus_label(void) {
        return arg_bus_address ? "the bus" : "the system bus";
}

/* Connects to --bus-address or the system bus; logs why not and returns <0. */
static int bus_connect(sd_bus **ret) {
        sd_bus *b = NULL;
        const char *why = NULL;
        int r;

        r = dlopen_sdbus(&why);
        if (r < 0)
                return log_error_errno(r, "%s", why);
        if (arg_bus_address) {
                r = sd_bus_new(&b);
                if (r < 0)
                        return log_error_errno(r, "Out of memory");
                r = sd_bus_set_address(b, arg_bus_address);
                if (r >= 0)
                        r = sd_bus_set_bus_client(b, 1);
                if (r >= 0)
                        r = sd_bus_start(b);
                if (r < 0) {
                        sd_bus_flush_close_unref(b);
                        return log_error_errno(r, "cchostd is not running on the bus %s (cannot connect: %m)",
                                               arg_bus_address);
                }
        } else {
                r = sd_bus_open_system(&b);
                if (r < 0)
                        return log_error_errno(r, "cchostd is not running on the system bus (cannot connect: %m)");
        }
        *ret = b;
        return 0;
}

/* GetReport(kind) → *ret (parsed); the daemon missing is the one line of "status", <0 after logging. */
static int get_report(sd_bus *b, const char *kind, json_object **ret) {
        _cleanup_(sd_bus_error_free) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *text = NULL;
        json_object *o;
        int r;

        r = sd_bus_call_method(b, BUS_NAME, BUS_PATH, BUS_IFACE, "GetReport", &error, &reply, "s", kind);
        if (r < 0) {
                _cleanup_(text_esc_done) TextEsc e = {};

                if (error.name && (streq(error.name, "org.freedesktop.DBus.Error.ServiceUnknown") ||
                                   streq(error.name, "org.freedesktop.DBus.Error.NameHasNoOwner")))
                        return log_error_errno(-ENOTCONN, "cchostd is not running on %s%s%s (%s is not on it)",
                                               bus_label(), arg_bus_address ? " " : "", strempty(arg_bus_address),
                                               BUS_NAME);
                return log_error_errno(r, "GetReport(\"%s\") failed: %s", kind,
                                       text_esc(&e, error.message ?: strerror(-r)));
        }
        r = sd_bus_message_read(reply, "s", &text);
        if (r < 0)
                return log_error_errno(r, "Cannot read the reply of GetReport(\"%s\"): %m", kind);
        o = json_tokener_parse(text);
        if (!o || !json_object_is_type(o, json_type_object)) {
                json_object_put(o);
                return log_error_errno(-EBADMSG, "GetReport(\"%s\") did not return a JSON object", kind);
        }
        *ret = o;
        return 0;
}

static bool isempty(const char *s) {
        return !s || !*s;
}

static const char *jstr(json_object *o, const char *key) {
        json_object *v = json_object_object_get(o, key);

        return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

/* usec since the epoch as "2026-12-02 03:12:00 UTC", or none for 0 */
static const char *format_usec(uint64_t usec, const char *none, char *buf, size_t size) {
        time_t t = (time_t) (usec / 1000000);
        struct tm tm;

        if (usec == 0 || !gmtime_r(&t, &tm) || strftime(buf, size, "%Y-%m-%d %H:%M:%S UTC", &tm) == 0)
                return none;
        return buf;
}

static uint64_t juint(json_object *o, const char *key) {
        json_object *v = json_object_object_get(o, key);

        return json_object_is_type(v, json_type_int) ? json_object_get_uint64(v) : 0;
}

static void print_row(const char *label) {
        printf("%-18s", label);
}

/* at most STATUS_LIST_MAX entries of a, then how many more: a table read in one glance */
#define STATUS_LIST_MAX 5

static void print_string_list(json_object *a) {
        _cleanup_(text_esc_done) TextEsc e = {};
        size_t n = json_object_is_type(a, json_type_array) ? json_object_array_length(a) : 0;

        for (size_t i = 0; i < n && i < STATUS_LIST_MAX; i++)
                printf("%s%s", i ? ", " : "", text_esc(&e, json_object_get_string(json_object_array_get_idx(a, i))));
        if (n > STATUS_LIST_MAX)
                printf(" and %zu more (cchostctl report compliance)", n - STATUS_LIST_MAX);
}

static void print_status(json_object *node, json_object *check, bool color) {
        _cleanup_(text_esc_done) TextEsc e = {};
        const char *readiness = strempty(jstr(node, "readiness")), *c = "";
        json_object *checks = json_object_object_get(check, "checks"), *comp = json_object_object_get(node, "compliance"),
                    *slots = json_object_object_get(node, "cvm_slots"), *rot = json_object_object_get(node, "key_rotation"),
                    *failed = json_object_object_get(node, "failed_checks");
        size_t n_failed = json_object_is_type(failed, json_type_array) ? json_object_array_length(failed) : 0;
        char b1[64], b2[64];

        if (color)
                c = streq(readiness, "ready") ? ANSI_GREEN : streq(readiness, "degraded") ? ANSI_YELLOW : ANSI_RED;
        printf("cchostd on %s%s%s, host root %s\n\n", bus_label(), arg_bus_address ? " " : "",
               text_esc(&e, strempty(arg_bus_address)), text_esc(&e, strempty(jstr(node, "root"))));

        print_row("Readiness:");
        printf("%s%s%s%s\n", color ? ANSI_BOLD : "", c, text_esc(&e, readiness), color ? ANSI_RESET : "");
        print_row("TEE:");
        printf("%s\n", text_esc(&e, strempty(jstr(node, "tee"))));
        if (!isempty(jstr(node, "provision_stage"))) {
                print_row("Provisioning:");
                printf("%s\n", text_esc(&e, jstr(node, "provision_stage")));
        }
        print_row("Reboot required:");
        printf("%s\n", json_object_get_boolean(json_object_object_get(node, "reboot_required")) ? "yes" : "no");

        print_row("Failed checks:");
        if (n_failed == 0)
                printf("none\n");
        else
                printf("%zu\n", n_failed);
        for (size_t i = 0; json_object_is_type(checks, json_type_array) && i < json_object_array_length(checks); i++) {
                json_object *f = json_object_array_get_idx(checks, i);
                const char *status = strempty(jstr(f, "status"));

                if (!streq(status, "fail") && !streq(status, "unknown"))
                        continue;
                printf("  %s%s%s %s: %s\n", color ? (streq(status, "fail") ? ANSI_RED : ANSI_YELLOW) : "",
                       streq(status, "fail") ? "FAIL" : " ?? ", color ? ANSI_RESET : "",
                       text_esc(&e, strempty(jstr(f, "id"))), text_esc(&e, strempty(jstr(f, "summary"))));
                if (!isempty(jstr(f, "remedy")))
                        printf("       remedy: %s\n", text_esc(&e, jstr(f, "remedy")));
        }

        print_row("Compliance:");
        if (json_object_is_type(json_object_object_get(comp, "score"), json_type_double) ||
            json_object_is_type(json_object_object_get(comp, "score"), json_type_int)) {
                json_object *cf = json_object_object_get(comp, "failed");
                size_t n = json_object_is_type(cf, json_type_array) ? json_object_array_length(cf) : 0;

                printf("%.1f/100", json_object_get_double(json_object_object_get(comp, "score")));
                if (n > 0) {
                        printf(", %zu rule%s fail: ", n, n == 1 ? "" : "s");
                        print_string_list(cf);
                }
                putchar('\n');
        } else
                printf("unknown (%s)\n", text_esc(&e, jstr(comp, "error") ?: "no score"));

        print_row("Disk encryption:");
        printf("%s\n", text_esc(&e, jstr(node, "disk_encryption") ?: "unknown"));
        print_row("Key rotation:");
        printf("last %s, next %s\n", format_usec(juint(rot, "last_usec"), "never", b1, sizeof(b1)),
               format_usec(juint(rot, "next_usec"), "not scheduled", b2, sizeof(b2)));

        print_row("CVM slots:");
        if (json_object_is_type(slots, json_type_object))
                printf("%" PRIu64 " (bound by %s)\n", juint(slots, "value"), text_esc(&e, strempty(jstr(slots, "binding"))));
        else
                printf("unknown (the capacity model cannot be computed)\n");
        print_row("Last check:");
        printf("%s\n", format_usec(juint(node, "last_check_usec"), "never", b1, sizeof(b1)));
}

static bool status_refuses_root(const char *verb) {
        if (streq(arg_root, "/"))
                return false;
        log_error("--root does not apply to %s: the daemon reports on its own root", verb);
        return true;
}

int verb_status(int argc, char *argv[]) {
        _cleanup_(bus_closep) sd_bus *b = NULL;
        _cleanup_(json_object_putp) json_object *node = NULL, *check = NULL;
        const char *readiness;
        int r;

        if (argc > 1)
                return log_error_errno(-EINVAL, "status takes no arguments, got \"%s\"", argv[1]);
        if (status_refuses_root("status"))
                return -EINVAL;
        r = bus_connect(&b);
        if (r < 0)
                return r;
        r = get_report(b, "node", &node);
        if (r < 0)
                return r;
        readiness = strempty(jstr(node, "readiness"));
        if (arg_json)
                print_json(node);
        else {
                r = get_report(b, "check", &check);
                if (r < 0)
                        return r;
                print_status(node, check, arg_color < 0 ? isatty(STDOUT_FILENO) && !getenv("NO_COLOR") : arg_color);
        }
        if (fflush(stdout) != 0)
                return log_error_errno(-EIO, "Cannot write to stdout: %m");
        return streq(readiness, "ready") || streq(readiness, "degraded") ? 0 : EXIT_NOT_READY;
}

/* ---- monitor ---- */

static volatile sig_atomic_t monitor_stop = 0;

static void monitor_on_signal(int sig) {
        monitor_stop = sig;
}

/* now as "2026-12-02T03:12:00.123Z" */
static const char *format_now(char *buf, size_t size) {
        struct timespec ts;
        struct tm tm;
        size_t n;

        if (clock_gettime(CLOCK_REALTIME, &ts) < 0 || !gmtime_r(&ts.tv_sec, &tm) ||
            (n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm)) == 0)
                return "?";
        snprintf(buf + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000);
        return buf;
}

static int print_strv(sd_bus_message *m) {
        _cleanup_(text_esc_done) TextEsc e = {};
        char **l = NULL;
        int r;

        r = sd_bus_message_read_strv(m, &l);
        if (r < 0)
                return r;
        fputc('[', stdout);
        for (char **i = l; i && *i; i++)
                printf("%s%s", i == l ? "" : ", ", text_esc(&e, *i));
        fputc(']', stdout);
        strv_free(l);
        return 0;
}

/* The value of a variant, the message positioned at it; a type not shown here is skipped as "…". */
static int print_variant(sd_bus_message *m) {
        _cleanup_(text_esc_done) TextEsc e = {};
        const char *contents = NULL;
        char type;
        int r;

        r = sd_bus_message_enter_container(m, 'v', NULL);
        if (r < 0)
                return r;
        r = sd_bus_message_peek_type(m, &type, &contents);
        if (r < 0)
                return r;
        switch (type) {
        case 's':
        case 'o': {
                const char *s;

                r = sd_bus_message_read_basic(m, type, &s);
                if (r >= 0)
                        printf("\"%s\"", text_esc(&e, s));
                break;
        }
        case 'b': {
                int b;

                r = sd_bus_message_read_basic(m, type, &b);
                if (r >= 0)
                        fputs(b ? "true" : "false", stdout);
                break;
        }
        case 'u': {
                uint32_t u;

                r = sd_bus_message_read_basic(m, type, &u);
                if (r >= 0)
                        printf("%" PRIu32, u);
                break;
        }
        case 't': {
                uint64_t t;

                r = sd_bus_message_read_basic(m, type, &t);
                if (r >= 0)
                        printf("%" PRIu64, t);
                break;
        }
        case 'd': {
                double d;

                r = sd_bus_message_read_basic(m, type, &d);
                if (r >= 0)
                        printf("%g", d);
                break;
        }
        default:
                if (type == 'a' && contents && streq(contents, "s"))
                        r = print_strv(m);
                else {
                        r = sd_bus_message_skip(m, NULL);
                        if (r >= 0)
                                fputs("…", stdout);
                }
        }
        if (r < 0)
                return r;
        return sd_bus_message_exit_container(m);
}

static int on_signal(sd_bus_message *m, void *userdata, sd_bus_error *ret_error) {
        _cleanup_(text_esc_done) TextEsc e = {};
        const char *member = strempty(sd_bus_message_get_member(m)), *path = strempty(sd_bus_message_get_path(m));
        char now[64];
        int r;

        (void) userdata;
        (void) ret_error;
        printf("%s %s %s", format_now(now, sizeof(now)), text_esc(&e, member), text_esc(&e, path));
        if (streq(member, "HealthChanged")) {
                const char *readiness;

                r = sd_bus_message_read(m, "s", &readiness);
                if (r >= 0) {
                        printf(" readiness=%s failed=", text_esc(&e, readiness));
                        r = print_strv(m);
                }
        } else if (streq(member, "JobFinished")) {
                const char *job, *result, *json;

                r = sd_bus_message_read(m, "oss", &job, &result, &json);
                if (r >= 0)
                        printf(" job=%s result=%s", text_esc(&e, job), text_esc(&e, result));
        } else {
                /* PropertiesChanged(s interface, a{sv} changed, as invalidated) */
                const char *iface;

                r = sd_bus_message_read(m, "s", &iface);
                if (r >= 0) {
                        printf(" %s", text_esc(&e, iface));
                        r = sd_bus_message_enter_container(m, 'a', "{sv}");
                }
                while (r >= 0) {
                        const char *name;

                        r = sd_bus_message_enter_container(m, 'e', "sv");
                        if (r <= 0)
                                break;
                        r = sd_bus_message_read(m, "s", &name);
                        if (r < 0)
                                break;
                        printf(" %s=", text_esc(&e, name));
                        r = print_variant(m);
                        if (r >= 0)
                                r = sd_bus_message_exit_container(m);
                }
                if (r >= 0)
                        r = sd_bus_message_exit_container(m);
        }
        if (r < 0)
                printf(" (cannot read the signal: %s)", strerror(-r));
        putchar('\n');
        fflush(stdout);
        return 0;
}

int verb_monitor(int argc, char *argv[]) {
        _cleanup_(bus_closep) sd_bus *b = NULL;
        struct sigaction sa = { .sa_handler = monitor_on_signal }, old_int, old_term;
        int r;

        if (argc > 1)
                return log_error_errno(-EINVAL, "monitor takes no arguments, got \"%s\"", argv[1]);
        if (status_refuses_root("monitor"))
                return -EINVAL;
        r = bus_connect(&b);
        if (r < 0)
                return r;
        /* the daemon's signals only (it may start after us: the bus matches the name when it is taken) */
        r = sd_bus_match_signal(b, NULL, BUS_NAME, NULL, BUS_IFACE, "HealthChanged", on_signal, NULL);
        if (r >= 0)
                r = sd_bus_match_signal(b, NULL, BUS_NAME, NULL, BUS_IFACE, "JobFinished", on_signal, NULL);
        if (r >= 0)
                r = sd_bus_match_signal(b, NULL, BUS_NAME, NULL, "org.freedesktop.DBus.Properties", "PropertiesChanged",
                                        on_signal, NULL);
        if (r < 0)
                return log_error_errno(r, "Cannot subscribe to the signals of %s: %m", BUS_NAME);

        /* no SA_RESTART: the signal interrupts sd_bus_wait(), which then returns -EINTR */
        sigemptyset(&sa.sa_mask);
        (void) sigaction(SIGINT, &sa, &old_int);
        (void) sigaction(SIGTERM, &sa, &old_term);
        printf("Following %s on %s%s%s; Ctrl-C stops\n", BUS_NAME, bus_label(), arg_bus_address ? " " : "",
               strempty(arg_bus_address));
        fflush(stdout);

        while (!monitor_stop) {
                r = sd_bus_process(b, NULL);
                if (r < 0) {
                        log_error_errno(r, "Lost the bus: %m");
                        break;
                }
                if (r > 0)
                        continue;
                /* a signal between the check above and the wait is seen within the timeout */
                r = sd_bus_wait(b, 500 * 1000);
                if (r < 0 && r != -EINTR) {
                        log_error_errno(r, "Lost the bus: %m");
                        break;
                }
        }
        (void) sigaction(SIGINT, &old_int, NULL);
        (void) sigaction(SIGTERM, &old_term, NULL);
        return monitor_stop ? 0 : -ENOTCONN;
}
