/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bootloader.h"
#include "strv.h"
#include "tests.h"

/*
 * What bash makes of text as a sourced file: the output of script (run with the file sourced
 * first, in an empty environment). NULL when bash fails.
 */
static char *bash_eval(const char *text, const char *script) {
        char dir[] = "/tmp/test-bootloader-XXXXXX", path[64], *out = NULL;
        _cleanup_free_ char *cmd = NULL;
        size_t n = 0, size = 0;
        int fd, pipefd[2], status;
        pid_t pid;

        ASSERT_TRUE(mkdtemp(dir));
        snprintf(path, sizeof(path), "%s/file", dir);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        ASSERT_TRUE(fd >= 0);
        ASSERT_INT(write(fd, text, strlen(text)), (long long) strlen(text));
        close(fd);
        ASSERT_TRUE(asprintf(&cmd, ". \"$0\" && %s", script) > 0);
        ASSERT_INT(pipe(pipefd), 0);
        pid = fork();
        ASSERT_TRUE(pid >= 0);
        if (pid == 0) {
                char *const argv[] = { (char *) "bash", (char *) "-c", cmd, path, NULL }, *const envp[] = { NULL };

                dup2(pipefd[1], STDOUT_FILENO);
                close(pipefd[0]);
                close(pipefd[1]);
                execve("/bin/bash", argv, envp);
                _exit(127);
        }
        close(pipefd[1]);
        for (;;) {
                ssize_t k;

                if (n + 4096 > size) {
                        size = n + 8192;
                        out = realloc(out, size);
                        ASSERT_TRUE(out);
                }
                k = read(pipefd[0], out + n, size - n - 1);
                ASSERT_TRUE(k >= 0);
                if (k == 0)
                        break;
                n += (size_t) k;
        }
        close(pipefd[0]);
        out[n] = 0;
        ASSERT_INT(waitpid(pid, &status, 0), pid);
        ASSERT_INT(unlink(path), 0);
        ASSERT_INT(rmdir(dir), 0);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
                return mfree(out);
        return out;
}

static const char *const both = "printf %s \"$GRUB_CMDLINE_LINUX $GRUB_CMDLINE_LINUX_DEFAULT\"";

/* cchost and bash agree on every file cchost accepts. */
TEST(test_bash_agrees) {
        static const char *const texts[] = {
                "GRUB_CMDLINE_LINUX=\"quiet splash\"\n",
                "GRUB_CMDLINE_LINUX='a $HOME \\n \"q\"'\nGRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX x\"\n",
                "  export GRUB_CMDLINE_LINUX=console=ttyS0,115200   # site\n",
                "A=1\nB=\"$A${A}2\"\nGRUB_CMDLINE_LINUX=\"b=$B c=\\$B d=\\q e=\\\\ f=\\\" g=\\`\"\n",
                "GRUB_CMDLINE_LINUX=a\\ b\\$c\\\\d\\\"\n",
                "GRUB_CMDLINE_LINUX=\"x\" # a \"comment\" with `quotes` and $(stuff)\n",
                "GRUB_CMDLINE_LINUX=\"*.? [a] ~ ; | & < > ( ) { } ! #\"\n",
                "GRUB_CMDLINE_LINUX=a*b[c]{d}e=f#g!h\n",
                "GRUB_DISTRIBUTOR=`lsb_release -i -s 2> /dev/null || echo Debian`\nGRUB_CMDLINE_LINUX=ok\n",
                "if [ -e /x ]; then\n  echo hi\nfi\nGRUB_CMDLINE_LINUX=\"$UNSET\"\n",
                "GRUB_CMDLINE_LINUX=\"a\tb\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"\"\n",
                "GRUB_CMDLINE_LINUX=\n",
                "_x9=v\nGRUB_CMDLINE_LINUX=\"${_x9}w\"\n",
                "GRUB_CMDLINE_LINUX=\"a\\\nb\"\n", /* refused: over two lines */
        };
        for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
                _cleanup_free_ char *mine = NULL, *error = NULL, *theirs = NULL;
                int r;

                r = grub_eval_text("etc/default/grub", texts[i], NULL, &mine, NULL, &error);
                theirs = bash_eval(texts[i], both);
                ASSERT_TRUE(theirs);
                if (r < 0) {
                        ASSERT_INT(r, -EBADMSG);
                        ASSERT_TRUE(i == ELEMENTSOF(texts) - 1);
                        ASSERT_TRUE(strstr(error, "/etc/default/grub:1: "));
                        continue;
                }
                if (strcmp(mine, theirs) != 0)
                        fprintf(stderr, "text %zu: %s", i, texts[i]);
                ASSERT_STR(mine, theirs);
        }
}

/* Files the shell gives a meaning cchost cannot know: refused with file and line, never guessed. */
TEST(test_refused) {
        static const struct {
                const char *text;
                unsigned line;
        } cases[] = {
                { "GRUB_CMDLINE_LINUX=\"$(id)\"\n", 1 },
                { "GRUB_CMDLINE_LINUX=\"`id`\"\n", 1 },
                { "GRUB_CMDLINE_LINUX=\"${A:-x}\"\n", 1 },
                { "GRUB_CMDLINE_LINUX=\"${A\"\n", 1 },
                { "GRUB_CMDLINE_LINUX=\"$1 $@ $$ $?\"\n", 1 },
                { "GRUB_CMDLINE_LINUX=$'a'\n", 1 },
                { "GRUB_CMDLINE_LINUX=a;b\n", 1 },
                { "GRUB_CMDLINE_LINUX=~/x\n", 1 },
                { "GRUB_CMDLINE_LINUX=\"a\"'b'\n", 1 },
                { "GRUB_CMDLINE_LINUX=a b\n", 1 },
                { "GRUB_CMDLINE_LINUX=a\\\n", 1 },
                { "GRUB_CMDLINE_LINUX+=a\n", 1 },
                { "unset GRUB_CMDLINE_LINUX\n", 1 },
                { "x\nA=$(id)\nB=\"$A\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"$B\"\n", 4 },
                { "A='x\nGRUB_CMDLINE_LINUX=y\n'\n", 1 },
                { "A=\"x\\\"\n", 1 },
        };
        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *cmdline = NULL, *error = NULL, *want = NULL;

                ASSERT_INT(grub_eval_text("etc/default/grub", cases[i].text, NULL, &cmdline, NULL, &error), -EBADMSG);
                ASSERT_TRUE(asprintf(&want, "/etc/default/grub:%u: ", cases[i].line) > 0);
                if (!strstr(error, want))
                        fprintf(stderr, "case %zu: %s\n", i, error);
                ASSERT_TRUE(strstr(error, want));
        }
}

/* Sizes: the line, the expanded value and the number of variables are bounded. */
TEST(test_bounds) {
        _cleanup_free_ char *text = NULL, *cmdline = NULL, *error = NULL;
        size_t n = 0;

        /* the issue's case: a long value expanded into the command line */
        text = malloc(GRUB_LINE_MAX * 4);
        ASSERT_TRUE(text);
        n = (size_t) sprintf(text, "A=\"");
        memset(text + n, 'x', GRUB_LINE_MAX - 10);
        n += GRUB_LINE_MAX - 10;
        n += (size_t) sprintf(text + n, "\"\nGRUB_CMDLINE_LINUX_DEFAULT=$A$A\n");
        ASSERT_INT(grub_eval_text("etc/default/grub", text, NULL, &cmdline, NULL, &error), -EBADMSG);
        ASSERT_TRUE(strstr(error, "/etc/default/grub:2: "));
        ASSERT_TRUE(strstr(error, "grows past 4096 bytes"));
        error = mfree(error);

        /* exactly GRUB_VALUE_MAX is fine */
        n = (size_t) sprintf(text, "A=\"");
        memset(text + n, 'x', GRUB_VALUE_MAX / 2);
        n += GRUB_VALUE_MAX / 2;
        n += (size_t) sprintf(text + n, "\"\nGRUB_CMDLINE_LINUX_DEFAULT=$A$A\n");
        ASSERT_INT(grub_eval_text("etc/default/grub", text, NULL, &cmdline, NULL, &error), 0);
        ASSERT_INT(strlen(cmdline), GRUB_VALUE_MAX + 1);
        cmdline = mfree(cmdline);

        /* a line of GRUB_LINE_MAX bytes is read, one more is refused */
        for (size_t extra = 0; extra <= 1; extra++) {
                n = (size_t) sprintf(text, "# ");
                memset(text + n, 'c', GRUB_LINE_MAX - 2 + extra);
                n += GRUB_LINE_MAX - 2 + extra;
                strcpy(text + n, "\nGRUB_CMDLINE_LINUX=y\n");
                ASSERT_INT(grub_eval_text("etc/default/grub", text, NULL, &cmdline, NULL, &error), extra ? -EBADMSG : 0);
                if (extra)
                        ASSERT_TRUE(strstr(error, "/etc/default/grub:1: line longer than 4096 bytes"));
                cmdline = mfree(cmdline);
                error = mfree(error);
        }

        /* GRUB_VARS_MAX variables, then one more */
        n = 0;
        for (int i = 0; i <= GRUB_VARS_MAX; i++)
                n += (size_t) sprintf(text + n, "V%d=x\n", i);
        ASSERT_INT(grub_eval_text("etc/default/grub", text, NULL, &cmdline, NULL, &error), -EBADMSG);
        ASSERT_TRUE(strstr(error, "/etc/default/grub:257: more than 256 variables"));
}

/* Removing words edits the text where it is written, in the shell's own reading of the words. */
TEST(test_edit) {
        static const struct {
                const char *text, *edited, *cmdline;
        } cases[] = {
                { "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet iommu=pt\" # x\n", "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\" # x\n",
                  " quiet" },
                { "GRUB_CMDLINE_LINUX='iommu=pt  nosmt=1 a'\n", "GRUB_CMDLINE_LINUX='a'\n", "a " },
                /* in double quotes "\=" is two characters, outside one */
                { "GRUB_CMDLINE_LINUX=\"a iommu\\=pt\"\n", "GRUB_CMDLINE_LINUX=\"a iommu\\=pt\"\n", "a iommu\\=pt " },
                { "GRUB_CMDLINE_LINUX=iommu\\=pt\n", "GRUB_CMDLINE_LINUX=\n", " " },
                { "GRUB_CMDLINE_LINUX=iommu=pt\n", "GRUB_CMDLINE_LINUX=\n", " " },
                /* variable references are the operator's: left alone */
                { "A=iommu=pt\nGRUB_CMDLINE_LINUX=\"$A b\"\n", "A=iommu=pt\nGRUB_CMDLINE_LINUX=\"$A b\"\n",
                  "iommu=pt b " },
        };
        char *remove[] = { (char *) "iommu", (char *) "nosmt", NULL };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                _cleanup_free_ char *cmdline = NULL, *edited = NULL, *error = NULL;

                ASSERT_INT(grub_eval_text("etc/default/grub", cases[i].text, remove, &cmdline, &edited, &error), 0);
                ASSERT_STR(edited, cases[i].edited);
                ASSERT_STR(cmdline, cases[i].cmdline);
        }
}

/* The drop-in cchost writes: bash reads back exactly the words, whatever they are, and so does cchost. */
TEST(test_dropin_verbatim) {
        static const char *const words[] = {
                "$(touch /tmp/cchost-test-pwned)", "`id`", "${IFS}", "$IFS", "trailing\\", "\\", "\\\\n", "\"",
                "a\"b\"", "'", "it's", "*", "/*", "?[a]", "~", "~root", "a;b|c&d>e<f", "(x)", "{a,b}", "$", "$$",
                "!!", "#", "new\nline", "-- x", "$GRUB_CMDLINE_LINUX", "\\$x", "\t", "%s%n",
        };

        for (size_t i = 0; i < ELEMENTSOF(words); i++) {
                char *one[] = { (char *) words[i], NULL };
                _cleanup_free_ char *content = NULL, *theirs = NULL, *want = NULL, *mine = NULL, *error = NULL;

                ASSERT_INT(grub_dropin_format(one, &content), 0);
                theirs = bash_eval(content, "printf %s \"$GRUB_CMDLINE_LINUX\"");
                ASSERT_TRUE(theirs);
                ASSERT_TRUE(asprintf(&want, " %s", words[i]) > 0);
                ASSERT_STR(theirs, want);
                /* cchost's reader agrees (a newline it refuses: the validator never lets one through) */
                if (strchr(words[i], '\n')) {
                        ASSERT_INT(grub_eval_text(GRUB_CCHOST_DROPIN, content, NULL, &mine, NULL, &error), -EBADMSG);
                        continue;
                }
                ASSERT_INT(grub_eval_text(GRUB_CCHOST_DROPIN, content, NULL, &mine, NULL, &error), 0);
                want = mfree(want);
                ASSERT_TRUE(asprintf(&want, " %s ", words[i]) > 0);
                ASSERT_STR(mine, want);
        }
        ASSERT_TRUE(access("/tmp/cchost-test-pwned", F_OK) < 0);

        /* several words, appended to what the files before set */
        {
                char *w[] = { (char *) "nohibernate", (char *) "kvm_intel.tdx=1", NULL };
                _cleanup_free_ char *content = NULL, *theirs = NULL, *text = NULL;

                ASSERT_INT(grub_dropin_format(w, &content), 0);
                ASSERT_TRUE(asprintf(&text, "GRUB_CMDLINE_LINUX=quiet\n%s", content) > 0);
                theirs = bash_eval(text, "printf %s \"$GRUB_CMDLINE_LINUX\"");
                ASSERT_STR(theirs, "quiet nohibernate kvm_intel.tdx=1");
        }
}

TEST(test_kernel_arg_check) {
        static const char *const good[] = {
                "quiet", "iommu=pt", "console=ttyS0,115200n8", "trace_event=sched:*", "crashkernel=512M@16M",
                "acpi_osi=!Windows", "ftrace_filter=ksys_[rw]*", "a#b", "rd.luks.uuid=3f1c-2a9e", "~", "%",
        };
        static const char *const bad[] = {
                "", "a b", "a\tb", "a\nb", "a\x01", "\x7f", "caf\xc3\xa9", "a\"b\"", "it's", "x\\", "$x", "`id`", "a;b",
                "a|b", "a&b", "a<b", "a>b", "(a)", "{a}", "#x", "--", "a$(id)",
        };
        _cleanup_free_ char *why = NULL, *huge = NULL;

        for (size_t i = 0; i < ELEMENTSOF(good); i++)
                ASSERT_INT(kernel_arg_check(good[i], &why), 0);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                ASSERT_INT(kernel_arg_check(bad[i], &why), -EINVAL);
                ASSERT_TRUE(why && *why);
                why = mfree(why);
        }
        ASSERT_INT(kernel_arg_check("a$b", &why), -EINVAL);
        ASSERT_TRUE(strstr(why, "'$' at position 2"));
        why = mfree(why);
        huge = malloc(KERNEL_CMDLINE_MAX + 2);
        ASSERT_TRUE(huge);
        memset(huge, 'a', KERNEL_CMDLINE_MAX + 1);
        huge[KERNEL_CMDLINE_MAX + 1] = 0;
        ASSERT_INT(kernel_arg_check(huge, &why), -EINVAL);
        huge[KERNEL_CMDLINE_MAX] = 0;
        ASSERT_INT(kernel_arg_check(huge, NULL), 0);
}

TEST(test_cmdline_length) {
        char *w[] = { (char *) "root=/dev/sda", (char *) "dyndbg=file x.c +p", (char *) "quiet", NULL };

        ASSERT_INT(cmdline_words_length(NULL), 0);
        /* root=/dev/sda dyndbg="file x.c +p" quiet */
        ASSERT_INT(cmdline_words_length(w), 40);
}

int main(void) {
        RUN(test_bash_agrees);
        RUN(test_refused);
        RUN(test_bounds);
        RUN(test_edit);
        RUN(test_dropin_verbatim);
        RUN(test_kernel_arg_check);
        RUN(test_cmdline_length);
        return 0;
}
