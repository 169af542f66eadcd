/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>

#include "exec-util.h"
#include "macro.h"

extern char **environ;

static long long now_ms(void) {
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (long long) ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int exec_capture(char *const argv[], int timeout_ms, size_t max_output, char **ret_stdout) {
        _cleanup_free_ char *buf = NULL;
        _cleanup_close_ int rfd = -1, devnull = -1;
        posix_spawn_file_actions_t fa;
        size_t size = 0;
        int pipefd[2], status, r = 0;
        long long deadline;
        pid_t pid;

        if (!argv || !argv[0] || argv[0][0] != '/')
                return -EINVAL;

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
        r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
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
