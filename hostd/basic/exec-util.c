/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>

#include "exec-util.h"
#include "macro.h"

/* What every program the backend runs sees, whatever the caller's environment holds */
static const char *const base_env[] = {
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        "LANG=C.UTF-8",
};

static long long now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* base_env, then extra; an extra "NAME=" replaces a base entry of the same name */
static int build_env(char *const extra[], char ***ret) {
        size_t n_extra = 0, n = 0;
        char **env;

        for (size_t i = 0; extra && extra[i]; i++) {
                const char *eq = strchr(extra[i], '=');

                if (!eq || eq == extra[i])
                        return -EINVAL;
                n_extra++;
        }
        env = calloc(ELEMENTSOF(base_env) + n_extra + 1, sizeof(char *));
        if (!env)
                return -ENOMEM;
        for (size_t i = 0; i < ELEMENTSOF(base_env); i++) {
                size_t len = strcspn(base_env[i], "=") + 1;
                const char *e = base_env[i];

                for (size_t j = 0; j < n_extra; j++)
                        if (strneq(extra[j], base_env[i], len))
                                e = extra[j];
                env[n++] = (char *) e;
        }
        for (size_t j = 0; j < n_extra; j++) {
                bool replaced = false;

                for (size_t i = 0; i < ELEMENTSOF(base_env); i++)
                        if (strneq(extra[j], base_env[i], strcspn(base_env[i], "=") + 1))
                                replaced = true;
                if (!replaced)
                        env[n++] = extra[j];
        }
        *ret = env;
        return 0;
}

int exec_capture(char *const argv[], int timeout_ms, size_t max_output, char **ret_stdout) {
        return exec_capture_env(argv, NULL, timeout_ms, max_output, ret_stdout);
}

int exec_capture_env(char *const argv[], char *const env[], int timeout_ms, size_t max_output, char **ret_stdout) {
        _cleanup_free_ char **envp = NULL;
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int rfd = -1, devnull = -1;
        posix_spawn_file_actions_t fa;
        size_t size = 0;
        int pipefd[2], status, r = 0;
        long long deadline;
        pid_t pid;

        if (!argv || !argv[0] || argv[0][0] != '/')
                return -EINVAL;
        r = build_env(env, &envp);
        if (r < 0)
                return r;

        buf = malloc(max_output + 1);
        if (!buf)
                return -ENOMEM;
        devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (devnull < 0)
                return negative_errno();
        if (pipe2(pipefd, O_CLOEXEC) < 0)
                return negative_errno();
        rfd = pipefd[0];

        posix_spawn_file_actions_init(&fa);
        posix_spawn_file_actions_adddup2(&fa, devnull, STDIN_FILENO);
        posix_spawn_file_actions_adddup2(&fa, pipefd[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, devnull, STDERR_FILENO);
        r = posix_spawn(&pid, argv[0], &fa, NULL, argv, envp);
        posix_spawn_file_actions_destroy(&fa);
        close(pipefd[1]);
        if (r != 0)
                return -r;

        deadline = now_ms() + timeout_ms;
        for (;;) {
                struct pollfd p = { .fd = rfd, .events = POLLIN };
                long long left = deadline - now_ms();
                ssize_t n;

                if (left <= 0) {
                        r = -ETIMEDOUT;
                        break;
                }
                n = poll(&p, 1, (int) left);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = negative_errno();
                        break;
                }
                if (n == 0)
                        continue;
                if (size >= max_output) {
                        r = -E2BIG;
                        break;
                }
                n = read(rfd, buf + size, max_output - size);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n < 0) {
                        r = negative_errno();
                        break;
                }
                if (n == 0)
                        break;
                size += (size_t) n;
        }
        if (r < 0)
                (void) kill(pid, SIGKILL);
        /* a child that closed stdout but keeps running is still held to the deadline */
        for (;;) {
                pid_t w = waitpid(pid, &status, r < 0 ? 0 : WNOHANG);

                if (w == pid)
                        break;
                if (w < 0 && errno != EINTR)
                        return r < 0 ? r : negative_errno();
                if (w == 0) {
                        if (now_ms() >= deadline) {
                                (void) kill(pid, SIGKILL);
                                r = -ETIMEDOUT;
                        } else
                                (void) poll(NULL, 0, 10);
                }
        }
        if (r < 0)
                return r;

        buf[size] = 0;
        *ret_stdout = TAKE_PTR(buf);
        if (WIFEXITED(status))
                return WEXITSTATUS(status);
        return -ECHILD;
}
