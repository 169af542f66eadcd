/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <dirent.h>
#include <sys/stat.h>

#include "fileio.h"
#include "hostfs.h"
#include "journal.h"
#include "strv.h"
#include "tests.h"

/* The engine's one journal (hostd/core/journal.c): format, location, the apply loop, the reader. */

static char base[] = "/tmp/cchost-test-journal-XXXXXX";

static HostFs *root(const char *name) {
        char path[256];
        HostFs *fs = NULL;

        snprintf(path, sizeof(path), "%s/%s", base, name);
        ASSERT_INT(mkdir(path, 0755), 0);
        ASSERT_INT(hostfs_new(path, &fs), 0);
        return fs;
}

static void add_action(Plan *p, ActionKind kind, const char *id) {
        Action *a;

        p->actions = realloc(p->actions, (p->n_actions + 1) * sizeof(Action));
        ASSERT_TRUE(p->actions);
        a = &p->actions[p->n_actions++];
        *a = (Action) { .kind = kind, .id = strdup(id), .description = strdup(id), .old_token = -1, .old_slot = -1 };
        ASSERT_TRUE(a->id && a->description);
        if (kind == ACTION_RUN)
                ASSERT_INT(strv_extend(&a->argv, "/usr/sbin/update-grub"), 0);
        if (kind >= ACTION_SYSCTL_FILE) {
                a->target = strdup("/dev/vdb");
                ASSERT_TRUE(a->target);
                if (kind <= ACTION_FILE_LINE)
                        ASSERT_INT(strv_extend(&a->fixes, "rule-1"), 0);
        }
        if (kind == ACTION_FDE_BIND)
                a->sealed = strdup("{\"type\":\"systemd-tpm2\"}");
}

/* Each operation's journal goes to its one file, 0600 in a 0700 directory, and reads back as written. */
TEST(test_round_trip) {
        static const struct {
                JournalOperation op;
                const char *instance, *subject, *file;
                ActionKind kind;
        } cases[] = {
                { JOURNAL_PROVISION, NULL, "snp", "var/lib/cchost/journal/provision.json", ACTION_RUN },
                { JOURNAL_HARDEN_ENFORCE, NULL, "cc-host", "var/lib/cchost/journal/harden-enforce.json", ACTION_UNIT_MASK },
                { JOURNAL_DISK, "5b1c7a3e-2f4d-4e6a-9b8c-0d1e2f3a4b5c", "rotate",
                  "var/lib/cchost/journal/disk-5b1c7a3e-2f4d-4e6a-9b8c-0d1e2f3a4b5c.json", ACTION_FDE_BIND },
        };
        HostFs *fs = root("round-trip");

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_(journal_done) Journal j = {}, back = {};
                _cleanup_free_ char *error = NULL;
                struct stat st;
                Plan p = {};

                add_action(&p, cases[i].kind, "step-1");
                ASSERT_INT(journal_begin_instance(&j, cases[i].op, cases[i].instance, cases[i].subject, "boot-1", &p), 0);
                ASSERT_INT(p.n_actions, 0); /* taken over */
                ASSERT_STR(j.path, cases[i].file);
                ASSERT_INT(strlen(j.run_id), 32);
                ASSERT_INT(journal_write(fs, &j), 0);
                ASSERT_INT(hostfs_stat(fs, cases[i].file, &st), 0);
                ASSERT_INT(st.st_mode & 07777, 0600);
                ASSERT_INT(hostfs_stat(fs, JOURNAL_DIR, &st), 0);
                ASSERT_INT(st.st_mode & 07777, 0700);
                ASSERT_INT(journal_load_instance(fs, cases[i].op, cases[i].instance, &back, &error), 1);
                ASSERT_TRUE(!error);
                ASSERT_STR(back.run_id, j.run_id);
                ASSERT_STR(back.state, JOURNAL_APPLYING);
                ASSERT_STR(back.subject, cases[i].subject);
                ASSERT_STR(back.boot_id, "boot-1");
                ASSERT_STR(back.path, cases[i].file);
                ASSERT_INT(back.started, j.started);
                ASSERT_INT(back.plan.n_actions, 1);
                ASSERT_INT(back.plan.actions[0].kind, cases[i].kind);
                ASSERT_TRUE(cases[i].instance ? streq(back.instance, cases[i].instance) : !back.instance);
                ASSERT_INT(journal_remove(fs, &back), 0);
                ASSERT_INT(journal_load_instance(fs, cases[i].op, cases[i].instance, &back, &error), 0);
        }
        hostfs_free(fs);
}

/* A journal of one operation never holds another's steps, and is not read as another's. */
TEST(test_operation_kinds) {
        HostFs *fs = root("kinds");
        _cleanup_(journal_done) Journal j = {}, back = {};
        _cleanup_free_ char *error = NULL, *text = NULL;
        Plan p = {};

        add_action(&p, ACTION_UNIT_MASK, "unit-mask:cups.service");
        ASSERT_INT(journal_begin(&j, JOURNAL_PROVISION, "snp", "boot-1", &p), 0);
        ASSERT_INT(journal_write(fs, &j), 0);
        ASSERT_INT(journal_load(fs, JOURNAL_PROVISION, &back, &error), -EBADMSG);
        ASSERT_TRUE(strstr(error, "/var/lib/cchost/journal/provision.json: actions[0].kind: unknown action kind "
                              "\"unit-mask\" for a provision journal"));
        error = mfree(error);
        ASSERT_INT(hostfs_read_file(fs, JOURNAL_PROVISION_PATH, 1 << 20, &text, NULL), 0);
        ASSERT_INT(journal_parse(text, JOURNAL_HARDEN_ENFORCE, "x.json", &back, &error), -EBADMSG);
        ASSERT_TRUE(strstr(error, "/x.json: operation: \"provision\", expected \"harden-enforce\""));
        hostfs_free(fs);
}

/* A volume UUID names a file only when it is one: a LUKS2 header is input. */
TEST(test_instance_names) {
        char *p = NULL;

        ASSERT_INT(journal_path_for(JOURNAL_DISK, "../../etc/passwd", &p), -EINVAL);
        ASSERT_INT(journal_path_for(JOURNAL_DISK, "", &p), -EINVAL);
        ASSERT_INT(journal_path_for(JOURNAL_DISK, NULL, &p), -EINVAL);
        ASSERT_INT(journal_path_for(JOURNAL_PROVISION, "abc", &p), -EINVAL);
        ASSERT_INT(journal_path_for(JOURNAL_DISK, "0a-1B", &p), 0);
        ASSERT_STR(p, "var/lib/cchost/journal/disk-0a-1B.json");
        free(p);
}

typedef struct Calls {
        unsigned applied, started, finished;
        const char *fail;       /* the id of the action that fails */
} Calls;

static int apply_one(Action *a, size_t index, void *userdata, char **ret_reason) {
        Calls *c = userdata;

        (void) index;
        c->applied++;
        if (c->fail && streq(a->id, c->fail)) {
                *ret_reason = strdup("it broke");
                return -EIO;
        }
        return 1;
}

static void started(const Action *a, void *userdata) {
        (void) a;
        ((Calls *) userdata)->started++;
}

static void finished(const Action *a, size_t index, int result, void *userdata) {
        (void) a, (void) index, (void) result;
        ((Calls *) userdata)->finished++;
}

/* The one loop: done and deferred actions are skipped, "started" is done again, a failure stops the
 * run (failed) or, with keep_going, is recorded and the rest still runs. */
TEST(test_apply) {
        HostFs *fs = root("apply");

        for (int keep_going = 0; keep_going <= 1; keep_going++) {
                _cleanup_(journal_done) Journal j = {}, back = {};
                _cleanup_free_ char *error = NULL;
                Calls c = { .fail = "b" };
                Plan p = {};
                int r;

                add_action(&p, ACTION_RUN, "done");
                add_action(&p, ACTION_RUN, "a");
                add_action(&p, ACTION_RUN, "b");
                add_action(&p, ACTION_RUN, "c");
                p.actions[0].state = ACTION_DONE;
                p.actions[1].state = ACTION_STARTED;
                ASSERT_INT(journal_begin(&j, JOURNAL_PROVISION, "tdx", "boot-1", &p), 0);
                r = journal_apply(fs, &j, &(JournalApplier) { .apply = apply_one, .started = started, .finished = finished,
                                                             .userdata = &c, .keep_going = keep_going }, &error);
                ASSERT_INT(c.started, keep_going ? 3 : 2);
                ASSERT_INT(c.applied, c.started);
                ASSERT_INT(c.finished, c.started);
                ASSERT_INT(journal_load(fs, JOURNAL_PROVISION, &back, NULL), 1);
                ASSERT_INT(back.plan.actions[0].state, ACTION_DONE);
                ASSERT_INT(back.plan.actions[1].state, ACTION_DONE);
                ASSERT_INT(back.plan.actions[2].state, ACTION_FAILED);
                ASSERT_STR(back.plan.actions[2].error, "it broke");
                if (keep_going) {
                        ASSERT_INT(r, 1);
                        ASSERT_TRUE(!error);
                        ASSERT_STR(back.state, JOURNAL_APPLYING); /* the caller finishes the run */
                        ASSERT_INT(back.plan.actions[3].state, ACTION_DONE);
                } else {
                        ASSERT_INT(r, -EIO);
                        ASSERT_STR(error, "b failed: it broke");
                        ASSERT_STR(back.state, JOURNAL_FAILED);
                        ASSERT_INT(back.plan.actions[3].state, ACTION_PENDING);
                        ASSERT_TRUE(journal_unfinished(&back, "boot-2"));
                        ASSERT_STR(journal_first_left(&back)->id, "b");
                }
        }
        hostfs_free(fs);
}

/* The fuzz seeds of the new shapes are journals the reader accepts (so fuzzing starts inside). */
TEST(test_seeds_accepted) {
        static const struct {
                const char *file;
                JournalOperation op;
        } seeds[] = {
                { "v2-spr-interrupted.json", JOURNAL_PROVISION },
                { "spr-interrupted.json", JOURNAL_PROVISION }, /* version 1 */
                { "v2-harden-enforce-interrupted.json", JOURNAL_HARDEN_ENFORCE },
                { "v2-harden-enforce-failed.json", JOURNAL_HARDEN_ENFORCE },
                { "v2-disk-rotate.json", JOURNAL_DISK },
                { "v2-disk-enroll-recovery.json", JOURNAL_DISK },
        };
        const char *src = getenv("CCHOST_SOURCE_ROOT");

        if (!src)
                src = "..";
        for (size_t i = 0; i < ELEMENTSOF(seeds); i++) {
                _cleanup_(journal_done) Journal j = {};
                _cleanup_free_ char *path = NULL, *text = NULL, *error = NULL;
                size_t size = 0;

                ASSERT_TRUE(asprintf(&path, "%s/tests/fuzz/corpus/journal/%s", src, seeds[i].file) > 0);
                ASSERT_TRUE(read_full_file(path, 1 << 20, &text, &size) >= 0);
                if (journal_parse(text, seeds[i].op, seeds[i].file, &j, &error) < 0) {
                        fprintf(stderr, "%s: %s\n", seeds[i].file, error);
                        abort();
                }
                ASSERT_TRUE(j.plan.n_actions > 0);
        }
}

int main(int argc, char **argv) {
        int r;

        tests_init(argc, argv);
        ASSERT_TRUE(mkdtemp(base));
        RUN(test_round_trip);
        RUN(test_operation_kinds);
        RUN(test_instance_names);
        RUN(test_apply);
        RUN(test_seeds_accepted);
        r = tests_summary();
        if (tests_rm_rf(base) < 0)
                return 1;
        return r;
}
