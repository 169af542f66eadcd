/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "fde-policy.h"
#include "metrics.h"
#include "readiness.h"
#include "report.h"
#include "tests.h"

/* A report with one finding per status given (pass, fail, warn, unknown, skip as characters). */
static Report *report_of(const char *statuses) {
        static const char *const ids[] = { "t.check0", "t.check1", "t.check2", "t.check3" };
        Report *r = calloc(1, sizeof(*r));

        ASSERT_TRUE(r);
        ASSERT_TRUE(strlen(statuses) <= ELEMENTSOF(ids));
        for (size_t i = 0; statuses[i]; i++) {
                Finding *f;

                f = report_add(r, ids[i], "test"); /* the report keeps the pointer */
                ASSERT_TRUE(f);
                f->status = statuses[i] == 'p' ? FINDING_PASS : statuses[i] == 'f' ? FINDING_FAIL :
                            statuses[i] == 'w' ? FINDING_WARN : statuses[i] == 'u' ? FINDING_UNKNOWN : FINDING_SKIP;
        }
        return r;
}

TEST(test_strings) {
        for (int i = 0; i < _READINESS_MAX; i++)
                ASSERT_INT(readiness_from_string(readiness_to_string((Readiness) i)), i);
        ASSERT_STR(readiness_to_string(READINESS_REBOOT_PENDING), "reboot-pending");
        ASSERT_STR(readiness_to_string(READINESS_NOT_READY), "not-ready");
        ASSERT_INT(readiness_from_string("Ready"), _READINESS_INVALID);
        ASSERT_INT(readiness_from_string(NULL), _READINESS_INVALID);
        ASSERT_TRUE(readiness_to_string(_READINESS_MAX) == NULL);
        ASSERT_TRUE(readiness_to_string(_READINESS_INVALID) == NULL);
}

TEST(test_rule_in_order) {
        static const struct {
                const char *statuses;
                ReadinessFacts facts;
                Readiness want;
        } cases[] = {
                { "pps", {}, READINESS_READY },
                { "pwp", {}, READINESS_DEGRADED },
                { "pwf", {}, READINESS_NOT_READY },
                { "pu", {}, READINESS_NOT_READY },
                { "", {}, READINESS_NOT_READY },
                { "ppp", { .provisioning = true }, READINESS_PROVISIONING },
                { "pf", { .provisioning = true }, READINESS_PROVISIONING },
                { "pf", { .reboot_pending = true, .provisioning = true }, READINESS_REBOOT_PENDING },
                { "pp", { .reboot_pending = true }, READINESS_REBOOT_PENDING },
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                Report *r = report_of(cases[i].statuses);

                ASSERT_INT(engine_readiness(r, &cases[i].facts), cases[i].want);
                /* "ready" is the findings' part of the rule only */
                ASSERT_INT(report_ready(r), readiness_is_ready(engine_readiness(r, NULL)));
                /* the facts the engine read with the report count */
                ASSERT_INT(report_readiness(r), engine_readiness(r, NULL));
                r->facts = cases[i].facts;
                r->have_facts = true;
                ASSERT_INT(report_readiness(r), cases[i].want);
                report_free(r);
        }
}

TEST(test_metrics_text) {
        Report *r = report_of("pw");
        MetricsDevice d[] = { { .device = "/dev/a\"\\\nb", .last_rotation = 42 } };
        MetricsInput in = { .report = r, .last_check = 1796083200, .devices = d, .n_devices = 1 };
        char *text = NULL;
        size_t size;

        r->tee = TEE_TDX;
        ASSERT_INT(metrics_format(&in, &text, &size), 0);
        ASSERT_INT(strlen(text), size);
        ASSERT_TRUE(text[size - 1] == '\n');
        ASSERT_TRUE(strstr(text, "cchost_ready 1\n"));
        ASSERT_TRUE(strstr(text, "cchost_readiness{state=\"degraded\"} 1\n"));
        ASSERT_TRUE(strstr(text, "cchost_check_status{check=\"t.check1\",status=\"warn\"} 1\n"));
        ASSERT_TRUE(strstr(text, "cchost_check_status{check=\"t.check1\",status=\"pass\"} 0\n"));
        ASSERT_TRUE(strstr(text, "cchost_compliance_score NaN\n"));
        ASSERT_TRUE(strstr(text, "cchost_tee_keys NaN\n"));
        ASSERT_TRUE(strstr(text, "cchost_last_key_rotation_timestamp_seconds{device=\"/dev/a\\\"\\\\\\nb\"} 42\n"));
        ASSERT_TRUE(strstr(text, "cchost_last_check_timestamp_seconds 1796083200\n"));
        free(text);
        report_free(r);
}

TEST(test_rotation_due) {
        Config c = { .fde.keyslot_days = 1, .fde.volume_key_days = 0 };
        FdeRotationState s = {};
        bool k, v;
        time_t nk, nv;

        /* never recorded: due now */
        fde_rotation_due(&c, &s, "/dev/a", 1000, &k, &v, &nk, &nv);
        ASSERT_TRUE(k && !v);
        ASSERT_INT(nk, 0);
        ASSERT_INT(nv, 0);
        ASSERT_INT(fde_rotation_set(&s, "/dev/a", false, 1000), 0);
        fde_rotation_due(&c, &s, "/dev/a", 1000 + 86399, &k, &v, &nk, &nv);
        ASSERT_TRUE(!k && !v);
        ASSERT_INT(nk, 1000 + 86400);
        fde_rotation_due(&c, &s, "/dev/a", 1000 + 86400, &k, NULL, NULL, NULL);
        ASSERT_TRUE(k);
        /* a period too long for the calendar never comes */
        c.fde.keyslot_days = UINT64_MAX;
        fde_rotation_due(&c, &s, "/dev/a", INT32_MAX, &k, NULL, &nk, NULL);
        ASSERT_TRUE(!k);
        fde_rotation_done(&s);
}

int main(int argc, char **argv) {
        tests_init(argc, argv);
        RUN(test_strings);
        RUN(test_rule_in_order);
        RUN(test_metrics_text);
        RUN(test_rotation_due);
        return tests_summary();
}
