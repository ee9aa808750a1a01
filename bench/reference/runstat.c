/*
 * runstat: runs a command and reports, once it has ended, what it cost: the CPU time and peak RSS
 * the kernel accounted to it. The benchmark runs every contender (the C reference listeners and
 * `taskstats-actors collect`) under it, so all are measured the same way.
 *
 *   runstat --out FILE -- COMMAND [ARGS...]
 *
 * It prints `child=<pid>` on stderr as soon as the command is started (so that the caller can
 * sample /proc/<pid> while it runs), passes SIGTERM and SIGINT on to the command, and when the
 * command has exited, before reaping it, reads utime and stime (fields 14 and 15, in clock
 * ticks) from the zombie's /proc/<pid>/stat; it then reaps it with wait4(), whose rusage gives
 * ru_utime, ru_stime and ru_maxrss (the kernel's final VmHWM of the process). FILE gets one line:
 *
 *   {"pid":…,"status":…,"stat_utime_s":…,"stat_stime_s":…,"ru_utime_s":…,"ru_stime_s":…,"ru_maxrss_kb":…}
 *
 * status is the command's exit status, or 128 + the signal that killed it. runstat exits with it.
 * Build: cc -O2 -o runstat runstat.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

static volatile pid_t child;

static void forward(int signo)
{
    if (child > 0)
        kill(child, signo);
}

/* Fields 14 (utime) and 15 (stime) of /proc/<pid>/stat; the command name (field 2) may hold spaces
   and parentheses, so the count starts after its last ')'. */
static int read_stat_times(pid_t pid, unsigned long long *utime, unsigned long long *stime)
{
    char path[64], text[4096];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *file = fopen(path, "r");
    if (file == NULL)
        return -1;
    size_t length = fread(text, 1, sizeof text - 1, file);
    fclose(file);
    text[length] = '\0';
    char *p = strrchr(text, ')');
    if (p == NULL)
        return -1;
    p++;
    /* After ')': field 3 (state) is the first token; utime is field 14, i.e. the 12th token. */
    for (int field = 3; field <= 15; field++) {
        while (*p == ' ')
            p++;
        if (*p == '\0')
            return -1;
        if (field == 14)
            *utime = strtoull(p, NULL, 10);
        if (field == 15)
            *stime = strtoull(p, NULL, 10);
        while (*p != ' ' && *p != '\0')
            p++;
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *out = NULL;
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
            out = argv[++i];
        else if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else
            break;
    }
    if (out == NULL || i >= argc) {
        fprintf(stderr, "usage: runstat --out FILE -- COMMAND [ARGS...]\n");
        return 2;
    }

    struct sigaction action = {0};
    action.sa_handler = forward;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    sigaction(SIGTERM, &action, NULL);
    sigaction(SIGINT, &action, NULL);

    pid_t pid = fork();
    if (pid < 0) {
        perror("runstat: fork");
        return 1;
    }
    if (pid == 0) {
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_DFL);
        execvp(argv[i], &argv[i]);
        fprintf(stderr, "runstat: cannot run %s: %s\n", argv[i], strerror(errno));
        _exit(127);
    }
    child = pid;
    fprintf(stderr, "child=%d\n", (int)pid);
    fflush(stderr);

    siginfo_t info;
    while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) < 0) {
        if (errno != EINTR) {
            perror("runstat: waitid");
            return 1;
        }
    }
    unsigned long long utime = 0, stime = 0;
    int have_stat = read_stat_times(pid, &utime, &stime) == 0;
    long ticks = sysconf(_SC_CLK_TCK);

    int status;
    struct rusage usage;
    while (wait4(pid, &status, 0, &usage) < 0) {
        if (errno != EINTR) {
            perror("runstat: wait4");
            return 1;
        }
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);

    FILE *file = fopen(out, "w");
    if (file == NULL) {
        perror("runstat: open --out");
        return 1;
    }
    fprintf(file,
            "{\"pid\":%d,\"status\":%d,\"stat_utime_s\":%.6f,\"stat_stime_s\":%.6f,\"ru_utime_s\":%.6f,"
            "\"ru_stime_s\":%.6f,\"ru_maxrss_kb\":%ld}\n",
            (int)pid, code, have_stat ? (double)utime / (double)ticks : -1.0,
            have_stat ? (double)stime / (double)ticks : -1.0,
            (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6,
            (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6, usage.ru_maxrss);
    fclose(file);
    return code;
}
