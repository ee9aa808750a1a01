/*
 * loadgen: makes task exits as fast as the machine allows (or at a paced rate), so that
 * tests and benchmarks can check that every exit record of the taskstats interface arrives.
 *
 *   loadgen --mode fork|vfork|thread [--workers P] (--count N | --duration SECONDS)
 *           [--rate R] [--comm NAME] [--cpu K] [--exit-code C] [--work-us US]
 *
 * The main process forks P worker processes; each worker makes its share of the exits one
 * after another (create, then reap or join) and counts only exits it has reaped or joined.
 * At the end the main process prints one line on stdout:
 *
 *   exits=<N> seconds=<S> rate=<R>
 *
 * Which tasks carry --comm NAME when they exit (so that exactly N taskstats records have it):
 *   fork    each child sets NAME with prctl(PR_SET_NAME) right after fork, then exits;
 *           workers and the main process never carry NAME.
 *   vfork   a vfork child may do nothing but _exit, so it cannot rename itself: the worker
 *           takes NAME before its first vfork (children inherit the comm) and takes its own
 *           name back after its last one, before it exits itself. Only if a worker is killed
 *           by a signal it cannot catch (SIGKILL) in between does one extra NAME record appear.
 *   thread  each thread sets NAME on itself first thing; the worker's main thread keeps the
 *           loadgen's own name.
 * Without --comm every task keeps the loadgen's own name.
 *
 * SIGINT or SIGTERM stop the run early: workers finish the exit in progress, the summary is
 * still printed, and the exit status is 3. Exit status: 0 done, 1 a worker failed (summary
 * still printed), 2 bad arguments, 3 stopped by a signal.
 *
 * Build: cc -O2 -pthread -o loadgen loadgen.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define COMM_MAX 15 /* TASK_COMM_LEN - 1 */
#define MAX_WORKERS 1024
/* Transient EAGAIN/ENOMEM from fork or pthread_create (pid or memory pressure) is retried this often, 1 ms apart. */
#define MAX_CONSECUTIVE_FAILURES 5000

enum mode { MODE_FORK, MODE_VFORK, MODE_THREAD };

struct options {
    enum mode mode;
    long workers;
    long long count;   /* < 0: not given */
    double duration;   /* < 0: not given */
    double rate;       /* exits per second over all workers; 0 = as fast as possible */
    const char *comm;  /* NULL: children keep the loadgen's name */
    int cpu;           /* < 0: no pinning */
    int exit_code;
    int exit_code_given;
    long work_us;
};

/* One per worker, in memory shared with the main process, so counts survive a worker's failure. */
struct slot {
    _Atomic long long exits;
    int failed;
    char error[256];
};

static volatile sig_atomic_t stop_requested;

/* Set in the main process only: its handler passes the stop on to the workers still running.
   An entry is cleared before its worker is reaped, so the handler never signals a reused pid. */
static volatile sig_atomic_t is_main;
static volatile pid_t worker_pids[MAX_WORKERS];
static volatile sig_atomic_t worker_count;

static void on_stop_signal(int signo)
{
    (void)signo;
    stop_requested = 1;
    if (!is_main)
        return;
    int saved_errno = errno;
    for (int i = 0; i < worker_count; i++) {
        if (worker_pids[i] > 0)
            kill(worker_pids[i], SIGTERM);
    }
    errno = saved_errno;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void busy_wait_us(long us)
{
    if (us <= 0)
        return;
    double until = now_seconds() + (double)us / 1e6;
    while (now_seconds() < until)
        ;
}

static void sleep_until(double when)
{
    struct timespec ts;
    ts.tv_sec = (time_t)when;
    ts.tv_nsec = (long)((when - (double)ts.tv_sec) * 1e9);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    /* An interrupting signal just ends the sleep early; the caller re-checks its stop condition. */
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
}

static void fail(struct slot *slot, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(slot->error, sizeof slot->error, format, args);
    va_end(args);
    slot->failed = 1;
}

struct plan {
    long long target;  /* < 0: unbounded (duration only) */
    double deadline;   /* 0: none */
    double start;
    double interval;   /* seconds between exits for this worker; 0 = unpaced */
};

/* True when the worker should make another exit; sleeps first when pacing asks for it. */
static int next_exit(const struct plan *plan, long long made)
{
    if (stop_requested)
        return 0;
    if (plan->target >= 0 && made >= plan->target)
        return 0;
    if (plan->interval > 0) {
        double due = plan->start + (double)made * plan->interval;
        while (!stop_requested && now_seconds() < due) {
            if (plan->deadline > 0 && due >= plan->deadline)
                return 0;
            sleep_until(due);
        }
        if (stop_requested)
            return 0;
    }
    if (plan->deadline > 0 && now_seconds() >= plan->deadline)
        return 0;
    return 1;
}

/* Retries a transient resource shortage; returns 0 when the caller should give up. */
static int retry_after(int error, int *consecutive)
{
    if ((error != EAGAIN && error != ENOMEM) || ++*consecutive > MAX_CONSECUTIVE_FAILURES)
        return 0;
    usleep(1000);
    return 1;
}

/* The child's reaping must not be skipped even when a stop signal interrupts waitpid: every
   counted exit is a reaped one. */
static int reap(pid_t pid, struct slot *slot)
{
    int status;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR) {
            fail(slot, "waitpid(%d): %s", (int)pid, strerror(errno));
            return 0;
        }
    }
    return 1;
}

static void run_fork(const struct options *options, const struct plan *plan, struct slot *slot)
{
    long long made = 0;
    int failures = 0;
    while (next_exit(plan, made)) {
        pid_t pid = fork();
        if (pid == 0) {
            if (options->comm != NULL)
                prctl(PR_SET_NAME, options->comm, 0, 0, 0);
            busy_wait_us(options->work_us);
            _exit(options->exit_code);
        }
        if (pid < 0) {
            int error = errno;
            if (retry_after(error, &failures))
                continue;
            fail(slot, "fork: %s", strerror(error));
            return;
        }
        failures = 0;
        if (!reap(pid, slot))
            return;
        atomic_store(&slot->exits, ++made);
    }
}

/* Kept out of line so that the vfork child, which borrows this stack, only ever runs _exit. */
static __attribute__((noinline)) pid_t vfork_and_exit(int exit_code)
{
    pid_t pid = vfork();
    if (pid == 0)
        _exit(exit_code);
    return pid;
}

static void run_vfork(const struct options *options, const struct plan *plan, struct slot *slot)
{
    char own_name[COMM_MAX + 1] = {0};
    prctl(PR_GET_NAME, own_name, 0, 0, 0);
    if (options->comm != NULL)
        prctl(PR_SET_NAME, options->comm, 0, 0, 0);

    long long made = 0;
    int failures = 0;
    while (next_exit(plan, made)) {
        pid_t pid = vfork_and_exit(options->exit_code);
        if (pid < 0) {
            int error = errno;
            if (retry_after(error, &failures))
                continue;
            fail(slot, "vfork: %s", strerror(error));
            break;
        }
        failures = 0;
        if (!reap(pid, slot))
            break;
        atomic_store(&slot->exits, ++made);
    }

    /* The worker's own exit must not count as one of NAME's. */
    prctl(PR_SET_NAME, own_name, 0, 0, 0);
}

static void *thread_body(void *arg)
{
    const struct options *options = arg;
    if (options->comm != NULL)
        prctl(PR_SET_NAME, options->comm, 0, 0, 0);
    busy_wait_us(options->work_us);
    return NULL;
}

static void run_thread(const struct options *options, const struct plan *plan, struct slot *slot)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    /* A small stack makes creation cheaper; the body needs almost none. */
    pthread_attr_setstacksize(&attr, 64 * 1024);

    long long made = 0;
    int failures = 0;
    while (next_exit(plan, made)) {
        pthread_t thread;
        int error = pthread_create(&thread, &attr, thread_body, (void *)options);
        if (error != 0) {
            if (retry_after(error, &failures))
                continue;
            fail(slot, "pthread_create: %s", strerror(error));
            break;
        }
        failures = 0;
        error = pthread_join(thread, NULL);
        if (error != 0) {
            fail(slot, "pthread_join: %s", strerror(error));
            break;
        }
        atomic_store(&slot->exits, ++made);
    }
    pthread_attr_destroy(&attr);
}

static void run_worker(const struct options *options, struct plan plan, struct slot *slot)
{
    if (options->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(options->cpu, &set);
        if (sched_setaffinity(0, sizeof set, &set) != 0) {
            fail(slot, "cannot pin to cpu %d: %s", options->cpu, strerror(errno));
            return;
        }
    }
    switch (options->mode) {
    case MODE_FORK: run_fork(options, &plan, slot); break;
    case MODE_VFORK: run_vfork(options, &plan, slot); break;
    case MODE_THREAD: run_thread(options, &plan, slot); break;
    }
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: loadgen --mode fork|vfork|thread (--count N | --duration SECONDS)\n"
            "               [--workers P] [--rate EXITS_PER_SECOND] [--comm NAME]\n"
            "               [--cpu K] [--exit-code C] [--work-us MICROSECONDS]\n"
            "prints: exits=<N> seconds=<S> rate=<R>\n");
}

static int bad_usage(const char *format, ...)
{
    va_list args;
    fputs("loadgen: ", stderr);
    va_start(args, format);
    vfprintf(stderr, format, args);
    va_end(args);
    fputc('\n', stderr);
    usage(stderr);
    return 2;
}

static int parse_long(const char *text, long long min, long long max, long long *value)
{
    char *end;
    errno = 0;
    long long parsed = strtoll(text, &end, 10);
    if (errno != 0 || end == text || *end != '\0' || parsed < min || parsed > max)
        return 0;
    *value = parsed;
    return 1;
}

static int parse_double(const char *text, double min, double *value)
{
    char *end;
    errno = 0;
    double parsed = strtod(text, &end);
    if (errno != 0 || end == text || *end != '\0' || !(parsed >= min))
        return 0;
    *value = parsed;
    return 1;
}

static int parse_options(int argc, char **argv, struct options *options)
{
    static const struct option long_options[] = {
        {"mode", required_argument, NULL, 'm'},
        {"workers", required_argument, NULL, 'w'},
        {"count", required_argument, NULL, 'n'},
        {"duration", required_argument, NULL, 'd'},
        {"rate", required_argument, NULL, 'r'},
        {"comm", required_argument, NULL, 'c'},
        {"cpu", required_argument, NULL, 'p'},
        {"exit-code", required_argument, NULL, 'e'},
        {"work-us", required_argument, NULL, 'u'},
        {"help", no_argument, NULL, 'h'},
        {0, 0, 0, 0},
    };
    *options = (struct options){.mode = -1, .workers = 1, .count = -1, .duration = -1, .cpu = -1};
    long long value;
    int option;
    while ((option = getopt_long(argc, argv, "", long_options, NULL)) != -1) {
        switch (option) {
        case 'm':
            if (strcmp(optarg, "fork") == 0) options->mode = MODE_FORK;
            else if (strcmp(optarg, "vfork") == 0) options->mode = MODE_VFORK;
            else if (strcmp(optarg, "thread") == 0) options->mode = MODE_THREAD;
            else return bad_usage("--mode must be fork, vfork or thread, not \"%s\"", optarg);
            break;
        case 'w':
            if (!parse_long(optarg, 1, MAX_WORKERS, &value))
                return bad_usage("--workers must be 1 to %d, not \"%s\"", MAX_WORKERS, optarg);
            options->workers = (long)value;
            break;
        case 'n':
            if (!parse_long(optarg, 0, (long long)1 << 50, &value))
                return bad_usage("--count must be a number >= 0, not \"%s\"", optarg);
            options->count = value;
            break;
        case 'd':
            if (!parse_double(optarg, 0, &options->duration))
                return bad_usage("--duration must be seconds >= 0, not \"%s\"", optarg);
            break;
        case 'r':
            if (!parse_double(optarg, 0, &options->rate))
                return bad_usage("--rate must be exits per second >= 0, not \"%s\"", optarg);
            break;
        case 'c':
            if (optarg[0] == '\0' || strlen(optarg) > COMM_MAX)
                return bad_usage("--comm must be 1 to %d characters, not \"%s\"", COMM_MAX, optarg);
            options->comm = optarg;
            break;
        case 'p':
            if (!parse_long(optarg, 0, CPU_SETSIZE - 1, &value))
                return bad_usage("--cpu must be 0 to %d, not \"%s\"", CPU_SETSIZE - 1, optarg);
            options->cpu = (int)value;
            break;
        case 'e':
            if (!parse_long(optarg, 0, 255, &value))
                return bad_usage("--exit-code must be 0 to 255, not \"%s\"", optarg);
            options->exit_code = (int)value;
            options->exit_code_given = 1;
            break;
        case 'u':
            if (!parse_long(optarg, 0, 60L * 1000 * 1000, &value))
                return bad_usage("--work-us must be 0 to 60000000, not \"%s\"", optarg);
            options->work_us = (long)value;
            break;
        case 'h':
            usage(stdout);
            exit(0);
        default:
            return bad_usage("unknown option");
        }
    }
    if (optind < argc)
        return bad_usage("unexpected argument \"%s\"", argv[optind]);
    if ((int)options->mode < 0)
        return bad_usage("--mode is required");
    if (options->count < 0 && options->duration < 0)
        return bad_usage("give --count or --duration (or both: whichever ends first)");
    if (options->mode == MODE_VFORK && options->work_us > 0)
        return bad_usage("--work-us cannot be used with --mode vfork: a vfork child may only _exit");
    if (options->mode == MODE_THREAD && options->exit_code_given)
        return bad_usage("--exit-code cannot be used with --mode thread: threads exit with 0");
    return 0;
}

int main(int argc, char **argv)
{
    struct options options;
    int rc = parse_options(argc, argv, &options);
    if (rc != 0)
        return rc;

    struct slot *slots = mmap(NULL, sizeof(struct slot) * (size_t)options.workers, PROT_READ | PROT_WRITE,
                              MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (slots == MAP_FAILED) {
        fprintf(stderr, "loadgen: mmap: %s\n", strerror(errno));
        return 1;
    }

    /* No SA_RESTART: a stop signal must interrupt the main process's waitpid and pacing sleeps. */
    struct sigaction action = {0};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);

    is_main = 1;
    double start = now_seconds();
    for (long i = 0; i < options.workers && !stop_requested; i++) {
        struct plan plan = {
            .target = options.count < 0 ? -1 : options.count / options.workers + (i < options.count % options.workers ? 1 : 0),
            .deadline = options.duration < 0 ? 0 : start + options.duration,
            .start = start,
            .interval = options.rate > 0 ? (double)options.workers / options.rate : 0,
        };
        pid_t pid = fork();
        if (pid == 0) {
            is_main = 0;
            run_worker(&options, plan, &slots[i]);
            _exit(slots[i].failed ? 1 : 0);
        }
        if (pid < 0) {
            fprintf(stderr, "loadgen: cannot start worker %ld: %s\n", i, strerror(errno));
            rc = 1;
            raise(SIGTERM); /* stops the workers already started, through the handler */
            break;
        }
        worker_pids[i] = pid;
        worker_count = (sig_atomic_t)(i + 1);
        if (stop_requested)
            kill(pid, SIGTERM); /* the stop came in before the handler could know this worker */
    }

    for (long i = 0; i < worker_count; i++) {
        pid_t pid = worker_pids[i];
        siginfo_t info;
        while (waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT) < 0) {
            if (errno != EINTR) {
                fprintf(stderr, "loadgen: waitid(worker %ld): %s\n", i, strerror(errno));
                return 1;
            }
        }
        worker_pids[i] = 0;
        int status;
        while (waitpid(pid, &status, 0) < 0) {
            if (errno != EINTR) {
                fprintf(stderr, "loadgen: waitpid(worker %ld): %s\n", i, strerror(errno));
                return 1;
            }
        }
        if (slots[i].failed) {
            fprintf(stderr, "loadgen: worker %ld: %s\n", i, slots[i].error);
            rc = 1;
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "loadgen: worker %ld ended abnormally (status 0x%x)\n", i, status);
            rc = 1;
        }
    }
    double seconds = now_seconds() - start;

    long long exits = 0;
    for (long i = 0; i < worker_count; i++)
        exits += atomic_load(&slots[i].exits);
    printf("exits=%lld seconds=%.6f rate=%.1f\n", exits, seconds, seconds > 0 ? (double)exits / seconds : 0.0);
    fflush(stdout);
    if (rc == 0 && stop_requested)
        rc = 3;
    return rc;
}
