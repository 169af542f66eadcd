/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdio.h>
#include <stdlib.h>

#include "escape.h"
#include "profile-validate.h"
#include "tests.h"

/*
 * The output escapes (UTF-8 validity, terminal, XML) and the profile value types on the edge cases:
 * overlong forms, surrogates, C1 controls, ESC; paths, units, modes, sysctl keys, regexes.
 */

static void expect_text(const char *in, const char *out) {
        char *e = text_escape(in);

        ASSERT_STR(e, out);
        free(e);
}

static void expect_valid(HardenValueType t, const char *s, bool want) {
        const char *reason = NULL;
        bool got = harden_value_valid(t, s, &reason);

        if (got != want) {
                fprintf(stderr, "type %d: \"%s\" %s (%s)\n", t, s, got ? "accepted" : "refused", reason ?: "");
                abort();
        }
        ASSERT_TRUE(got || reason);
}

int main(void) {
        char *s;

        /* UTF-8 */
        ASSERT_TRUE(utf8_is_valid("plain ascii, \xc3\xa4, \xe2\x82\xac, \xf0\x9f\x98\x80"));
        ASSERT_TRUE(!utf8_is_valid("\xff"));
        ASSERT_TRUE(!utf8_is_valid("\xc0\xaf"));         /* overlong "/" */
        ASSERT_TRUE(!utf8_is_valid("\xe0\x80\xaf"));     /* overlong "/" */
        ASSERT_TRUE(!utf8_is_valid("\xed\xa0\x80"));     /* surrogate */
        ASSERT_TRUE(!utf8_is_valid("\xf4\x90\x80\x80")); /* above U+10FFFF */
        ASSERT_TRUE(!utf8_is_valid("\xe2\x82"));         /* truncated */
        s = utf8_make_valid("a\xffz\xc3");
        ASSERT_STR(s, "a\xef\xbf\xbdz\xef\xbf\xbd");
        free(s);

        /* the terminal */
        expect_text("red \x1b[31mtext\x1b[0m", "red \\x1b[31mtext\\x1b[0m");
        expect_text("bell\x07 line\nbreak\ttab", "bell\\x07 line\\x0abreak\\x09tab");
        expect_text("c1 \xc2\x9b" "31m and \xc3\xa4", "c1 \\xc2\\x9b31m and \xc3\xa4");
        expect_text("bad \xff\xfe", "bad \\xff\\xfe");
        ASSERT_TRUE(text_is_clean("\xc3\xa4 ok", false));
        ASSERT_TRUE(!text_is_clean("two\nlines", false));
        ASSERT_TRUE(text_is_clean("two\nlines", true));
        ASSERT_TRUE(!text_is_clean("del\x7f", true));

        /* XML */
        s = xml_text_escape("a\tb\nc\x01\x1b \xff");
        ASSERT_STR(s, "a\tb\nc\\x01\\x1b \xef\xbf\xbd");
        free(s);

        /* TextEsc keeps clean strings as they are */
        {
                TextEsc e = {};
                const char *clean = "clean";

                ASSERT_TRUE(text_esc(&e, clean) == clean);
                ASSERT_STR(text_esc(&e, "\x1b"), "\\x1b");
                ASSERT_STR(text_esc(&e, NULL), "");
                ASSERT_INT((int) e.n, 1);
                text_esc_done(&e);
        }

        /* profile value types */
        expect_valid(HV_UNIT, "cups.service", true);
        expect_valid(HV_UNIT, "getty@tty1.service", true);
        expect_valid(HV_UNIT, "getty@.service", true);
        expect_valid(HV_UNIT, "../../../../etc/shadow", false);
        expect_valid(HV_UNIT, "cups", false);
        expect_valid(HV_UNIT, ".service", false);
        expect_valid(HV_UNIT, "@a.service", false);
        expect_valid(HV_UNIT, "a.nosuchsuffix", false);
        expect_valid(HV_TARGET, "multi-user.target", true);
        expect_valid(HV_TARGET, "multi-user.service", false);
        expect_valid(HV_MODULE, "usb-storage", true);
        expect_valid(HV_MODULE, "usb-storage\ninstall", false);
        expect_valid(HV_MODULE, "a/b", false);
        expect_valid(HV_SYSCTL_KEY, "net.ipv4.conf.all.rp_filter", true);
        expect_valid(HV_SYSCTL_KEY, "net/ipv4/conf/all/rp_filter", true);
        expect_valid(HV_SYSCTL_KEY, "../../../etc/shadow", false);
        expect_valid(HV_SYSCTL_KEY, "/kernel/x", false);
        expect_valid(HV_SYSCTL_KEY, "kernel.", false);
        expect_valid(HV_SYSCTL_KEY, "kernel./x", false);
        expect_valid(HV_MODE, "0640", true);
        expect_valid(HV_MODE, "07777", true);
        expect_valid(HV_MODE, "17777", false);
        expect_valid(HV_MODE, "99999999999", false);
        expect_valid(HV_MODE, "8", false);
        expect_valid(HV_MODE, "-1", false);
        expect_valid(HV_PATH, "/", true);
        expect_valid(HV_PATH, "/etc/passwd", true);
        expect_valid(HV_PATH, "/etc/../etc/passwd", false);
        expect_valid(HV_PATH, "/etc//passwd", false);
        expect_valid(HV_PATH, "/etc/./passwd", false);
        expect_valid(HV_PATH, "/etc/", false);
        expect_valid(HV_PATH, "/etc/..", false);
        expect_valid(HV_PATH, "etc/passwd", false);
        expect_valid(HV_PATH, "/etc/pass wd", false);
        expect_valid(HV_PATH, "/etc/...hidden", true);
        expect_valid(HV_PATH_META, "/etc/shadow", true);
        expect_valid(HV_PATH_META, "/etcetera/shadow", false);
        expect_valid(HV_PATH_META, "/proc/1/mem", false);
        expect_valid(HV_PATH_SYSFS, "/sys/kernel/mm/ksm/run", true);
        expect_valid(HV_PATH_SYSFS, "/etc/shadow", false);
        expect_valid(HV_PATH_DROPIN, "/etc/security/limits.d/60-cchost.conf", true);
        expect_valid(HV_PATH_DROPIN, "/etc/passwd", false);
        expect_valid(HV_PATH_DROPIN, "/etc/.d/x.conf", false);
        expect_valid(HV_PATH_DROPIN, "/usr/lib/x.d/x.conf", false);
        expect_valid(HV_PATH_DROPIN, "/etc/x.d/.conf", false);
        expect_valid(HV_ID, "root", true);
        expect_valid(HV_ID, "42", true);
        expect_valid(HV_ID, "host$", true);
        expect_valid(HV_ID, "9user", false);
        expect_valid(HV_ID, "99999999999", false);
        expect_valid(HV_REGEX, "^\\*[[:space:]]+hard[[:space:]]+core[[:space:]]+0$", true);
        expect_valid(HV_REGEX, "(a|b)+c{2,3}", true);
        expect_valid(HV_REGEX, "([", false);
        expect_valid(HV_REGEX, "a**", false);
        expect_valid(HV_REGEX, "((a{99}){99}){99}", false);
        expect_valid(HV_TEXT, "x\x1b[2J", false);
        expect_valid(HV_TEXT, "", false);
        expect_valid(HV_LINES, "[Coredump]\nStorage=none", true);
        return 0;
}
