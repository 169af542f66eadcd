/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <inttypes.h>
#include <libudev.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "fde.h"
#include "fde-policy.h"
#include "log.h"
#include "strv.h"
#include "time-util.h"
#include "tpm2-util.h"

/*
 * disk status [DEVICE...] | enroll DEVICE --tpm2 | rotate DEVICE [--volume-key] | reseal DEVICE |
 * recover --escrow-key KEY.pem FILE.p7m
 *
 * DEVICE is an operator path on the real filesystem: a block device or a LUKS2 image file. Without
 * DEVICE arguments status looks at the configured fde.devices, or, when --root is "/" and none are
 * configured, at every disk and partition libudev knows. The journal, the escrowed recovery keys and
 * the escrow certificate are under --root.
 */

DEFINE_TRIVIAL_CLEANUP_FUNC(struct udev *, udev_unref);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct udev_enumerate *, udev_enumerate_unref);

#define ESP_TYPE_GUID "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
#define XBOOTLDR_TYPE_GUID "bc13c2ff-59e6-4262-a352-b275fd6f7172"

/* Disks and partitions that can hold data; the ESP and /boot (XBOOTLDR) may stay clear by policy. */
static int udev_devices(char ***ret) {
        _cleanup_(udev_unrefp) struct udev *udev = udev_new();
        _cleanup_(udev_enumerate_unrefp) struct udev_enumerate *e = NULL;
        struct udev_list_entry *l;
        char **list = NULL;

        if (!udev)
                return -ENOMEM;
        e = udev_enumerate_new(udev);
        if (!e || udev_enumerate_add_match_subsystem(e, "block") < 0 || udev_enumerate_scan_devices(e) < 0)
                return -EIO;
        udev_list_entry_foreach(l, udev_enumerate_get_list_entry(e)) {
                struct udev_device *d = udev_device_new_from_syspath(udev, udev_list_entry_get_name(l));
                const char *node, *devtype, *fs, *ptype, *sys;
                int r = 0;

                if (!d)
                        continue;
                node = udev_device_get_devnode(d);
                devtype = udev_device_get_devtype(d);
                fs = udev_device_get_property_value(d, "ID_FS_TYPE");
                ptype = udev_device_get_property_value(d, "ID_PART_ENTRY_TYPE");
                sys = udev_device_get_sysname(d);
                /* skip what holds no data of its own: loop/ram/zram/dm, whole disks with partitions */
                if (node && devtype && fs && !strneq(sys, "loop", 4) && !strneq(sys, "ram", 3) &&
                    !strneq(sys, "zram", 4) && !strneq(sys, "dm-", 3) &&
                    !(ptype && (strcasecmp(ptype, ESP_TYPE_GUID) == 0 || strcasecmp(ptype, XBOOTLDR_TYPE_GUID) == 0)) &&
                    !streq(fs, "swap"))
                        r = strv_extend(&list, node);
                udev_device_unref(d);
                if (r < 0) {
                        strv_free(list);
                        return r;
                }
        }
        *ret = list;
        return 0;
}

static const char *tcti_for(const Config *c) {
        return arg_tcti ?: c->tpm.tcti;
}

static int load_config(Host **ret_host, Config *ret_config) {
        _cleanup_free_ char *error = NULL;
        int r;

        r = open_host(ret_host);
        if (r < 0)
                return r;
        r = config_load(*ret_host, arg_config, ret_config, &error);
        if (r < 0)
                return error ? log_error_errno(r, "%s", error) : log_error_errno(r, "Cannot read the configuration: %m");
        return 0;
}

/* A time for people: "2026-12-01T00:00:00Z", or "never" for 0. */
static const char *when(time_t t, char buf[static 32]) {
        return t > 0 ? format_timestamp(t, buf, 32) : "never";
}

/* The rotation policy's view of one device: last and next rotation, seconds since the epoch (0: never). */
static void add_rotation(json_object *o, const char *device, const Config *c, const FdeRotationState *state,
                         time_t now) {
        const FdeRotationEntry *e = fde_rotation_get(state, device);
        json_object *rot = json_object_new_object();
        bool keyslot_due, volume_due;
        time_t next_keyslot, next_volume;

        if (!rot)
                return;
        fde_rotation_due(c, state, device, now, &keyslot_due, &volume_due, &next_keyslot, &next_volume);
        json_object_object_add(rot, "last_keyslot", json_object_new_int64(e ? (int64_t) e->keyslot : 0));
        json_object_object_add(rot, "next_keyslot", json_object_new_int64((int64_t) next_keyslot));
        json_object_object_add(rot, "keyslot_due", json_object_new_boolean(keyslot_due));
        json_object_object_add(rot, "last_volume_key", json_object_new_int64(e ? (int64_t) e->volume_key : 0));
        json_object_object_add(rot, "next_volume_key", json_object_new_int64((int64_t) next_volume));
        json_object_object_add(rot, "volume_key_due", json_object_new_boolean(volume_due));
        json_object_object_add(o, "rotation", rot);
}

static void print_rotation(json_object *d, const char *what, const char *key) {
        json_object *rot = json_object_object_get(d, "rotation");
        char name[32], last_buf[32], next_buf[32];
        time_t last, next;
        bool due;

        snprintf(name, sizeof(name), "last_%s", key);
        last = (time_t) json_object_get_int64(json_object_object_get(rot, name));
        snprintf(name, sizeof(name), "next_%s", key);
        next = (time_t) json_object_get_int64(json_object_object_get(rot, name));
        snprintf(name, sizeof(name), "%s_due", key);
        due = json_object_get_boolean(json_object_object_get(rot, name));
        printf("  %s: last rotated %s, %s%s\n", what, when(last, last_buf),
               due ? "rotation due" : next > 0 ? "next rotation " : "no rotation policy",
               !due && next > 0 ? format_timestamp(next, next_buf, sizeof(next_buf)) : "");
}

static void print_text(json_object *d) {
        json_object *v, *a;

        printf("%s: %s", json_object_get_string(json_object_object_get(d, "device")),
               json_object_get_string(json_object_object_get(d, "type")));
        if (json_object_object_get_ex(d, "cipher", &v))
                printf(" %s-%s %d-bit", json_object_get_string(v),
                       json_object_get_string(json_object_object_get(d, "cipher_mode")),
                       json_object_get_int(json_object_object_get(d, "key_size_bits")));
        if (json_object_object_get_ex(d, "reencryption", &v))
                printf(", reencryption %s", json_object_get_string(v));
        putchar('\n');
        if (json_object_object_get_ex(d, "keyslots", &a))
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *s = json_object_array_get_idx(a, i);
                        printf("  keyslot %d: %s, %s %s, role %s\n", json_object_get_int(json_object_object_get(s, "slot")),
                               json_object_get_string(json_object_object_get(s, "status")),
                               json_object_get_string(json_object_object_get(s, "pbkdf")),
                               json_object_get_string(json_object_object_get(s, "hash")) ?: "",
                               json_object_get_string(json_object_object_get(s, "role")));
                }
        if (json_object_object_get_ex(d, "tokens", &a))
                for (size_t i = 0; i < json_object_array_length(a); i++) {
                        json_object *t = json_object_array_get_idx(a, i);
                        printf("  token %d: %s keyslots %s", json_object_get_int(json_object_object_get(t, "id")),
                               json_object_get_string(json_object_object_get(t, "type")),
                               json_object_to_json_string_ext(json_object_object_get(t, "keyslots"), JSON_C_TO_STRING_PLAIN));
                        if (json_object_object_get_ex(t, "pcrs", &v))
                                printf(" pcrs %s %s", json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN),
                                       json_object_get_string(json_object_object_get(t, "pcr_bank")));
                        if (json_object_object_get_ex(t, "policy", &v))
                                printf(" policy %s", json_object_get_string(v));
                        putchar('\n');
                }
        if (json_object_object_get_ex(d, "rotation", &v)) {
                print_rotation(d, "TPM keyslot", "keyslot");
                print_rotation(d, "volume key", "volume_key");
        }
        a = json_object_object_get(d, "findings");
        for (size_t i = 0; a && i < json_object_array_length(a); i++) {
                json_object *f = json_object_array_get_idx(a, i);
                printf("  %-5s %s: %s\n", json_object_get_string(json_object_object_get(f, "status")),
                       json_object_get_string(json_object_object_get(f, "id")),
                       json_object_get_string(json_object_object_get(f, "detail")));
        }
}

static int disk_status(int argc, char *argv[]) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_(fde_rotation_done) FdeRotationState state = {};
        _cleanup_free_ char *error = NULL;
        time_t now;
        _cleanup_(json_object_putp) json_object *doc = NULL;
        _cleanup_(strv_freep) char **found = NULL;
        Config c = {};
        char **devices;
        json_object *list;
        bool ok = true;
        int r;

        r = load_config(&h, &c);
        if (r < 0)
                return r;
        r = fde_rotation_load(host_fs(h), &state, &error);
        if (r >= 0)
                r = clock_now(&now);
        if (r < 0) {
                config_done(&c);
                return error ? log_error_errno(r, "%s", error) : log_error_errno(r, "Cannot tell the time: %m");
        }
        if (argc > 0) {
                /* a DEVICE the operator named that is not there is a usage error, not a failed check */
                for (int i = 0; i < argc; i++) {
                        struct stat st;

                        if (stat(argv[i], &st) < 0) {
                                config_done(&c);
                                return log_error_errno(-errno, "%s: %m", argv[i]);
                        }
                }
                devices = argv;
        } else if (c.fde.devices)
                devices = c.fde.devices;
        else if (streq(arg_root, "/")) {
                r = udev_devices(&found);
                if (r < 0) {
                        config_done(&c);
                        return log_error_errno(r, "Cannot enumerate block devices with libudev: %m");
                }
                devices = found;
        } else {
                config_done(&c);
                return log_error_errno(-EINVAL, "disk status on --root %s needs DEVICE arguments or fde.devices in "
                                       "the configuration", arg_root);
        }

        doc = json_object_new_object();
        list = json_object_new_array();
        json_object_object_add(doc, "schema", json_object_new_string("cchost.disk/v1"));
        json_object_object_add(doc, "devices", list);
        for (char **d = devices; d && *d; d++) {
                json_object *o = NULL, *f;

                r = fde_status(*d, NULL, tcti_for(&c), true, &o);
                if (r < 0) {
                        config_done(&c);
                        return log_error_errno(r, "%s: %m", *d);
                }
                f = json_object_object_get(o, "findings");
                for (size_t i = 0; i < json_object_array_length(f); i++)
                        if (!streq(json_object_get_string(json_object_object_get(json_object_array_get_idx(f, i), "status")), "pass"))
                                ok = false;
                add_rotation(o, *d, &c, &state, now);
                json_object_array_add(list, o);
                if (!arg_json)
                        print_text(o);
        }
        config_done(&c);
        if (arg_json)
                print_json(doc);
        else if (json_object_array_length(list) == 0)
                printf("No block device holding data was found (udev saw no filesystem or LUKS signature).\n");
        return ok ? 0 : EXIT_NOT_READY;
}

/* Progress on a terminal (stderr): one line per phase, a bar redrawn in place for the reencryption.
 * The library calls this; it never prints itself. */
typedef struct ProgressState {
        char phase[256];
        int percent;     /* -1: the phase line has no bar */
        bool open_line;  /* a bar line waits for its newline */
} ProgressState;

static void show_progress(const char *phase, double fraction, void *userdata) {
        ProgressState *p = userdata;
        bool same = streq(p->phase, phase);

        if (!same) {
                if (p->open_line)
                        fputc('\n', stderr);
                p->open_line = false;
                p->percent = -1;
                snprintf(p->phase, sizeof(p->phase), "%s", phase);
                if (fraction < 0)
                        fprintf(stderr, "%s...\n", phase);
        }
        if (fraction >= 0) {
                int percent = (int) (fraction * 100.0 + 0.5), width = 30, filled;

                percent = percent < 0 ? 0 : percent > 100 ? 100 : percent;
                if (percent == p->percent)
                        return;
                p->percent = percent;
                filled = percent * width / 100;
                fprintf(stderr, "\r\033[K%s [%.*s%*s] %3d%%", phase, filled, "##############################",
                        width - filled, "", percent);
                p->open_line = true;
        }
        fflush(stderr);
}

static void end_progress(ProgressState *p) {
        if (p->open_line)
                fputc('\n', stderr);
        p->open_line = false;
}

/* One line of stdin: a prompt's answer (no echo on a terminal) or a pipe. NULL at end of input. */
static char *read_passphrase_stdin(void) {
        char line[1024], *got, *p;
        struct termios old, quiet;
        bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) >= 0;

        if (tty) {
                fprintf(stderr, "Passphrase: ");
                quiet = old;
                quiet.c_lflag &= ~(tcflag_t) ECHO;
                (void) tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
        }
        got = fgets(line, sizeof(line), stdin);
        if (tty) {
                (void) tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
                fputc('\n', stderr);
        }
        if (!got)
                return NULL;
        line[strcspn(line, "\n")] = 0;
        p = strdup(line);
        explicit_bzero(line, sizeof(line));
        return p;
}

static void erase_freep(char **p) {
        if (*p) {
                explicit_bzero(*p, strlen(*p));
                free(*p);
        }
}

/* SIGINT/SIGTERM during a disk change: the library stops its reencryption cleanly (resumable) */
static volatile sig_atomic_t stop_requested;

static void on_stop(int sig) {
        stop_requested = 1;
}

/* what the library has to say besides errors: shown as it always was, on stderr */
static void show_notice(int level, const char *message, void *userdata) {
        log_full_errno(level, 0, "%s", message);
}

static int disk_change(const char *verb, const char *device, bool volume_key) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_free_ char *error = NULL;
        _cleanup_(erase_freep) char *typed = NULL;
        FdeRecoveryKey recovery = { .keyslot = -1 };
        ProgressState progress = { .percent = -1 };
        struct sigaction sa = { .sa_handler = on_stop }, old_int, old_term;
        bool tty = isatty(STDERR_FILENO);
        Config c = {};
        FdeOptions o;
        int r;

        /* what the operator asked for (disk rotate --due --volume-key also rotates keyslots) */
        if (arg_escrow_key && !(streq(verb, "rotate") && arg_volume_key))
                return log_error_errno(-EINVAL, "--escrow-key is for disk recover and disk rotate --volume-key");
        r = load_config(&h, &c);
        if (r < 0)
                return r;
        /* enroll and reseal need a passphrase: without a file it comes from stdin */
        if (!arg_unlock_key_files && (streq(verb, "enroll") || streq(verb, "reseal")))
                typed = read_passphrase_stdin();
        o = (FdeOptions) {
                .fs = host_fs(h),
                .tcti = tcti_for(&c),
                .pcr_mask = arg_pcr_mask,
                .unlock_key_files = arg_unlock_key_files,
                .unlock_passphrase = typed,
                .escrow_key = arg_escrow_key,
                .recovery_key = arg_recovery_key,
                .print_recovery_key = arg_print_recovery_key,
                .escrow_cert = c.fde.escrow_certificate,
                .progress = tty ? show_progress : NULL,
                .progress_userdata = &progress,
                .cancel = &stop_requested,
                .notice = show_notice,
                .ret_recovery = &recovery,
        };
        if (streq(verb, "enroll"))
                r = fde_enroll(device, &o, &error);
        else if (streq(verb, "reseal"))
                r = fde_reseal(device, &o, &error);
        else if (volume_key) {
                /* only while the data is re-encrypted: a stop then is clean and resumable */
                stop_requested = 0;
                sigemptyset(&sa.sa_mask);
                (void) sigaction(SIGINT, &sa, &old_int);
                (void) sigaction(SIGTERM, &sa, &old_term);
                r = fde_rotate_volume_key(device, &o, &error);
                (void) sigaction(SIGINT, &old_int, NULL);
                (void) sigaction(SIGTERM, &old_term, NULL);
        } else
                r = fde_rotate_keyslots(device, &o, &error);
        end_progress(&progress);
        config_done(&c);
        /* shown even when a later step failed: the keyslot it opens exists */
        if (recovery.passphrase)
                printf("Recovery passphrase for %s (keyslot %d): %s\n", device, recovery.keyslot, recovery.passphrase);
        fde_recovery_key_done(&recovery);
        if (r < 0)
                return error ? log_error_errno(r, "%s", error) :
                               log_error_errno(r, "%s: disk %s failed: %m", device, verb);
        if (!arg_json)
                fprintf(stderr, "%s: %s done\n", device, verb);
        return 0;
}

/*
 * disk rotate --due [--volume-key] [--dry-run]: the fde.rotation policy, acted on. Every configured
 * device whose TPM keyslot rotation is due is rotated (and its volume key, with --volume-key, when
 * that is due); --dry-run lists what is due and changes nothing. Each rotation goes through the same
 * engine path as disk rotate DEVICE, which records it in /var/lib/cchost/rotation.json.
 */
static int disk_rotate_due(void) {
        _cleanup_(host_freep) Host *h = NULL;
        _cleanup_(fde_rotation_done) FdeRotationState state = {};
        _cleanup_free_ char *error = NULL;
        Config c = {};
        unsigned due_count = 0;
        time_t now;
        int r, ret = 0;

        r = load_config(&h, &c);
        if (r < 0)
                return r;
        if (strv_isempty(c.fde.devices)) {
                config_done(&c);
                return log_error_errno(-EINVAL, "disk rotate --due needs fde.devices in %s", c.path);
        }
        r = fde_rotation_load(host_fs(h), &state, &error);
        if (r < 0) {
                config_done(&c);
                return log_error_errno(r, "%s", strnull(error));
        }
        r = clock_now(&now);
        if (r < 0) {
                config_done(&c);
                return log_error_errno(r, "Cannot tell the time: %m");
        }
        STRV_FOREACH(d, c.fde.devices) {
                const FdeRotationEntry *e = fde_rotation_get(&state, *d);
                bool keyslot_due, volume_due;
                time_t next_keyslot, next_volume;
                char a[32], b[32];

                fde_rotation_due(&c, &state, *d, now, &keyslot_due, &volume_due, &next_keyslot, &next_volume);
                volume_due = volume_due && arg_volume_key;
                if (arg_dry_run) {
                        if (c.fde.keyslot_days > 0)
                                printf("%s: TPM keyslot %s (last rotated %s, every %" PRIu64 " days)\n", *d,
                                       keyslot_due ? "rotation due" : "not due", when(e ? e->keyslot : 0, a),
                                       c.fde.keyslot_days);
                        if (arg_volume_key && c.fde.volume_key_days > 0)
                                printf("%s: volume key %s (last rotated %s, every %" PRIu64 " days)\n", *d,
                                       volume_due ? "rotation due" : "not due", when(e ? e->volume_key : 0, b),
                                       c.fde.volume_key_days);
                        due_count += keyslot_due + volume_due;
                        continue;
                }
                if (keyslot_due) {
                        due_count++;
                        r = disk_change("rotate", *d, false);
                        if (r < 0 && ret == 0)
                                ret = r;
                }
                if (volume_due && (!keyslot_due || r >= 0)) {
                        due_count++;
                        r = disk_change("rotate", *d, true);
                        if (r < 0 && ret == 0)
                                ret = r;
                }
        }
        if (c.fde.keyslot_days == 0 && (!arg_volume_key || c.fde.volume_key_days == 0))
                fprintf(stderr, "No rotation policy: fde.rotation.keyslot_days%s is 0 (never) in %s\n",
                        arg_volume_key ? " and volume_key_days are" : "", c.path);
        else if (due_count == 0)
                fprintf(stderr, "No rotation is due.\n");
        config_done(&c);
        return ret;
}

/* A new file only (never one that exists, never through a symlink), mode 0600 whatever the umask. */
static int write_secret_file(const char *path, const char *secret) {
        size_t size = strlen(secret);
        ssize_t n;
        int fd, r = 0;

        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return log_error_errno(-errno, "%s: %m%s", path, errno == EEXIST ? "; not overwriting it" : "");
        if (fchmod(fd, 0600) < 0)
                r = -errno;
        if (r >= 0) {
                n = write(fd, secret, size);
                if (n < 0)
                        r = -errno;
                else if ((size_t) n != size || write(fd, "\n", 1) != 1)
                        r = -EIO;
        }
        if (r >= 0 && fsync(fd) < 0)
                r = -errno;
        if (close(fd) < 0 && r >= 0)
                r = -errno;
        if (r < 0) {
                (void) unlink(path);
                return log_error_errno(r, "%s: cannot write the passphrase: %m", path);
        }
        return 0;
}

/* disk recover --escrow-key KEY.pem FILE.p7m [--output FILE]: both are operator files on this machine. */
static int disk_recover(int argc, char *argv[]) {
        _cleanup_free_ char *error = NULL;
        FdeRecoveryKey k = { .keyslot = -1 };
        int r;

        if (argc != 1)
                return log_error_errno(-EINVAL, "usage: cchostctl disk recover --escrow-key KEY.pem FILE.p7m "
                                       "[--output FILE]");
        if (!arg_escrow_key)
                return log_error_errno(-EINVAL, "disk recover needs --escrow-key KEY.pem (the escrow service's "
                                       "private key) to decrypt %s", argv[0]);
        if (arg_unlock_key_files)
                return log_error_errno(-EINVAL, "disk recover takes no --unlock-key-file");
        r = fde_escrow_decrypt(argv[0], arg_escrow_key, &k, &error);
        if (r < 0)
                return error ? log_error_errno(r, "%s", error) :
                               log_error_errno(r, "%s: cannot decrypt the escrow file: %m", argv[0]);
        if (arg_output)
                r = write_secret_file(arg_output, k.passphrase);
        if (r >= 0) {
                if (!arg_output)
                        printf("%s\n", k.passphrase);
                fprintf(stderr, "Recovery passphrase of the LUKS2 volume %s (/dev/disk/by-uuid/%s), keyslot %d%s%s%s%s\n",
                        k.device_uuid ?: "(unknown)", k.device_uuid ?: "(unknown)", k.keyslot, k.created ? ", escrowed " : "",
                        strempty(k.created), arg_output ? ", written to " : "", strempty(arg_output));
                fprintf(stderr, "Use it with: cchostctl disk reseal DEVICE --unlock-key-file %s\n",
                        arg_output ?: "FILE");
        }
        fde_recovery_key_done(&k);
        return r < 0 ? r : 0;
}

int verb_disk(int argc, char *argv[]) {
        /* tpm2-tss logs to stderr by default; its errors are ours to report (an operator's TSS2_LOG wins) */
        (void) setenv("TSS2_LOG", "all+none", 0);
        if (argc >= 2 && streq(argv[1], "status"))
                return disk_status(argc - 2, argv + 2);
        if (argc >= 2 && streq(argv[1], "recover"))
                return disk_recover(argc - 2, argv + 2);
        if (argc == 3 && streq(argv[1], "enroll")) {
                if (!arg_tpm2)
                        return log_error_errno(-EINVAL, "disk enroll needs --tpm2 (the only enrolment method)");
                return disk_change("enroll", argv[2], false);
        }
        if (argc == 2 && streq(argv[1], "rotate") && arg_due)
                return disk_rotate_due();
        if (arg_due || (arg_dry_run && argc >= 2 && streq(argv[1], "rotate")))
                return log_error_errno(-EINVAL, "%s", arg_due ? "disk rotate --due takes no DEVICE (it rotates the "
                                       "configured fde.devices that are due)" : "disk rotate honours --dry-run only with "
                                       "--due (a rotation cannot show its changes without making them); nothing was changed");
        if (argc == 3 && (streq(argv[1], "rotate") || streq(argv[1], "reseal")))
                return disk_change(argv[1], argv[2], streq(argv[1], "rotate") && arg_volume_key);
        return log_error_errno(-EINVAL, "usage: cchostctl disk status [DEVICE...] | enroll DEVICE --tpm2 | "
                               "rotate DEVICE [--volume-key] | reseal DEVICE | recover --escrow-key KEY.pem FILE.p7m");
}
