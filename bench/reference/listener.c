/*
 * listener: a plain C taskstats exit-record listener, the reference the benchmark holds the
 * collector against. Written from the kernel's uapi headers (linux/netlink.h, linux/genetlink.h,
 * linux/taskstats.h, linux/sock_diag.h) and nothing else.
 *
 *   listener [--mode recv|batch] [--cpus MASK] [--rcvbuf BYTES] [--comm NAME]
 *            [--batch N] [--interval-us US]
 *
 * It resolves the TASKSTATS family through nlctrl (CTRL_CMD_GETFAMILY), registers MASK (default:
 * the online CPUs) with TASKSTATS_CMD_ATTR_REGISTER_CPUMASK, and then receives and decodes every
 * exit message: it walks the attributes (skipping unknown ones such as TASKSTATS_TYPE_NULL), reads
 * each struct taskstats' version and ac_comm, and counts task records whose ac_comm is NAME.
 *
 *   --mode recv    one blocking recv() per message, as `getdelays -l` does (the default).
 *   --mode batch   sleep ~--interval-us (default 1000), then recvmmsg() --batch (default 64)
 *                  messages at a time with MSG_DONTWAIT until the queue is empty.
 *   --rcvbuf B     SO_RCVBUFFORCE B (the kernel grants 2*B); 0 or absent keeps the default buffer.
 *
 * Once registered it prints `registered rcvbuf=<granted> family=<id>` on stderr. SIGTERM or SIGINT
 * stops it: it deregisters, drains what is queued, reads the socket's drop counter
 * (SO_MEMINFO[SK_MEMINFO_DROPS]) and prints one JSON line on stdout:
 *
 *   {"mode":…,"cpus":…,"rcvbuf_requested":…,"rcvbuf_granted":…,"messages":…,"records":…,
 *    "comm":…,"comm_records":…,"other_messages":…,"drops":…,"enobufs":…,"wakeups":…,
 *    "syscalls":…,"struct_version":…,"utime_s":…,"stime_s":…,"cpu_s":…,"vmhwm_kb":…,"seconds":…}
 *
 * messages: exit messages received; records: task + process records in them; drops: messages the
 * kernel dropped for this socket (its own account of what it lost); enobufs: receive calls that
 * failed with ENOBUFS; cpu_s: getrusage(RUSAGE_SELF) user + system time over the whole run.
 *
 * Exit status: 0 done, 1 a netlink error, 2 bad arguments, 3 missing CAP_NET_ADMIN.
 * Build: cc -O2 -o listener listener.c   (needs CAP_NET_ADMIN to run)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/taskstats.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif
#ifndef SO_MEMINFO
#define SO_MEMINFO 55
#endif
#ifndef SO_RCVBUFFORCE
#define SO_RCVBUFFORCE 33
#endif

#define MESSAGE_BUFFER 16384 /* an exit message is ~1.3 KB, ~2.3 KB with a process record */
#define MAX_BATCH 1024
#define COMM_LEN 32          /* TS_COMM_LEN */

enum mode { MODE_RECV, MODE_BATCH };

static volatile sig_atomic_t stop_requested;

static struct {
    long long messages, records, comm_records, other_messages, enobufs, wakeups, syscalls, malformed;
    unsigned struct_version;
} counts;

static const char *target_comm;
static int family_id;

static void on_stop(int signo)
{
    (void)signo;
    stop_requested = 1;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(int status, const char *what)
{
    fprintf(stderr, "listener: %s: %s\n", what, strerror(errno));
    exit(status);
}

/* ---- netlink plumbing ---- */

struct request {
    struct nlmsghdr n;
    struct genlmsghdr g;
    char attributes[256];
};

static void add_attribute(struct request *request, unsigned short type, const void *data, size_t length)
{
    struct nlattr *attribute = (struct nlattr *)((char *)&request->n + NLMSG_ALIGN(request->n.nlmsg_len));
    attribute->nla_type = type;
    attribute->nla_len = (unsigned short)(NLA_HDRLEN + length);
    memcpy((char *)attribute + NLA_HDRLEN, data, length);
    request->n.nlmsg_len = NLMSG_ALIGN(request->n.nlmsg_len) + NLA_ALIGN(attribute->nla_len);
}

static void start_request(struct request *request, unsigned short type, unsigned char command, unsigned flags, unsigned seq)
{
    memset(request, 0, sizeof *request);
    request->n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
    request->n.nlmsg_type = type;
    request->n.nlmsg_flags = (unsigned short)(NLM_F_REQUEST | flags);
    request->n.nlmsg_seq = seq;
    request->n.nlmsg_pid = 0;
    request->g.cmd = command;
    request->g.version = 1;
}

static int send_request(int fd, struct request *request)
{
    struct sockaddr_nl kernel = {.nl_family = AF_NETLINK};
    for (;;) {
        ssize_t sent = sendto(fd, &request->n, request->n.nlmsg_len, 0, (struct sockaddr *)&kernel, sizeof kernel);
        if (sent >= 0)
            return 0;
        if (errno != EINTR && errno != EAGAIN)
            return -1;
    }
}

/* ---- decoding ---- */

/* One struct taskstats payload: its version, and whether its ac_comm is the one we count. */
static int stats_match(const unsigned char *payload, size_t length)
{
    if (length < offsetof(struct taskstats, ac_comm) + COMM_LEN) {
        counts.malformed++;
        return 0;
    }
    unsigned short version;
    memcpy(&version, payload, sizeof version);
    counts.struct_version = version;
    const char *comm = (const char *)payload + offsetof(struct taskstats, ac_comm);
    return target_comm != NULL && strncmp(comm, target_comm, COMM_LEN) == 0;
}

/* AGGR_PID / AGGR_TGID: nested TASKSTATS_TYPE_PID|TGID (u32) and TASKSTATS_TYPE_STATS. */
static int decode_aggregate(const unsigned char *data, size_t length)
{
    int match = 0;
    size_t offset = 0;
    while (offset + NLA_HDRLEN <= length) {
        const struct nlattr *attribute = (const struct nlattr *)(data + offset);
        if (attribute->nla_len < NLA_HDRLEN || offset + attribute->nla_len > length)
            break;
        const unsigned char *payload = data + offset + NLA_HDRLEN;
        size_t payload_length = attribute->nla_len - NLA_HDRLEN;
        switch (attribute->nla_type & NLA_TYPE_MASK) {
        case TASKSTATS_TYPE_STATS:
            match = stats_match(payload, payload_length);
            counts.records++;
            break;
        default: /* PID, TGID, padding, anything newer */
            break;
        }
        offset += NLA_ALIGN(attribute->nla_len);
    }
    return match;
}

/* One datagram: normally exactly one exit message; register/deregister acks are skipped. */
static void decode_datagram(const unsigned char *data, size_t length)
{
    const struct nlmsghdr *header = (const struct nlmsghdr *)data;
    size_t left = length;
    for (; NLMSG_OK(header, left); header = NLMSG_NEXT(header, left)) {
        if (header->nlmsg_type != family_id)
            continue; /* NLMSG_ERROR (acks), NLMSG_DONE, NLMSG_NOOP */
        if (header->nlmsg_len < NLMSG_LENGTH(GENL_HDRLEN)) {
            counts.malformed++;
            continue;
        }
        const struct genlmsghdr *genl = NLMSG_DATA(header);
        if (genl->cmd != TASKSTATS_CMD_NEW)
            continue;
        counts.messages++;
        const unsigned char *attributes = (const unsigned char *)genl + GENL_HDRLEN;
        size_t attributes_length = header->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
        size_t offset = 0;
        int task_match = 0;
        while (offset + NLA_HDRLEN <= attributes_length) {
            const struct nlattr *attribute = (const struct nlattr *)(attributes + offset);
            if (attribute->nla_len < NLA_HDRLEN || offset + attribute->nla_len > attributes_length) {
                counts.malformed++;
                break;
            }
            const unsigned char *payload = attributes + offset + NLA_HDRLEN;
            size_t payload_length = attribute->nla_len - NLA_HDRLEN;
            switch (attribute->nla_type & NLA_TYPE_MASK) {
            case TASKSTATS_TYPE_AGGR_PID:
                task_match = decode_aggregate(payload, payload_length);
                break;
            case TASKSTATS_TYPE_AGGR_TGID:
                decode_aggregate(payload, payload_length);
                break;
            default: /* TASKSTATS_TYPE_NULL padding and whatever a newer kernel adds */
                break;
            }
            offset += NLA_ALIGN(attribute->nla_len);
        }
        if (task_match)
            counts.comm_records++;
        else
            counts.other_messages++;
    }
}

/* ---- setup ---- */

static int open_socket(long long rcvbuf, int *granted)
{
    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
    if (fd < 0)
        die(1, "socket(AF_NETLINK, NETLINK_GENERIC)");
    if (rcvbuf > 0) {
        int value = rcvbuf > 0x7fffffff / 2 ? 0x7fffffff / 2 : (int)rcvbuf;
        if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &value, sizeof value) != 0)
            die(3, "setsockopt(SO_RCVBUFFORCE) (needs CAP_NET_ADMIN)");
    }
    socklen_t size = sizeof *granted;
    if (getsockopt(fd, SOL_SOCKET, SO_RCVBUF, granted, &size) != 0)
        die(1, "getsockopt(SO_RCVBUF)");
    struct sockaddr_nl local = {.nl_family = AF_NETLINK};
    if (bind(fd, (struct sockaddr *)&local, sizeof local) != 0)
        die(1, "bind");
    return fd;
}

/* CTRL_CMD_GETFAMILY "TASKSTATS" -> CTRL_ATTR_FAMILY_ID. */
static int resolve_family(int fd)
{
    struct request request;
    start_request(&request, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0, 1);
    add_attribute(&request, CTRL_ATTR_FAMILY_NAME, TASKSTATS_GENL_NAME, sizeof TASKSTATS_GENL_NAME);
    if (send_request(fd, &request) != 0)
        die(1, "send CTRL_CMD_GETFAMILY");
    static unsigned char buffer[MESSAGE_BUFFER];
    for (;;) {
        ssize_t length = recv(fd, buffer, sizeof buffer, 0);
        if (length < 0) {
            if (errno == EINTR)
                continue;
            die(1, "recv CTRL_CMD_GETFAMILY");
        }
        size_t left = (size_t)length;
        for (struct nlmsghdr *header = (struct nlmsghdr *)buffer; NLMSG_OK(header, left); header = NLMSG_NEXT(header, left)) {
            if (header->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *error = NLMSG_DATA(header);
                errno = -error->error;
                die(1, "CTRL_CMD_GETFAMILY TASKSTATS (is the kernel built with CONFIG_TASKSTATS?)");
            }
            if (header->nlmsg_type != GENL_ID_CTRL)
                continue;
            unsigned char *attributes = (unsigned char *)NLMSG_DATA(header) + GENL_HDRLEN;
            size_t attributes_length = header->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
            for (size_t offset = 0; offset + NLA_HDRLEN <= attributes_length;) {
                struct nlattr *attribute = (struct nlattr *)(attributes + offset);
                if (attribute->nla_len < NLA_HDRLEN)
                    break;
                if ((attribute->nla_type & NLA_TYPE_MASK) == CTRL_ATTR_FAMILY_ID) {
                    unsigned short id;
                    memcpy(&id, (unsigned char *)attribute + NLA_HDRLEN, sizeof id);
                    return id;
                }
                offset += NLA_ALIGN(attribute->nla_len);
            }
        }
    }
}

/* Registers (or deregisters) the mask. Registering waits for the ack; exit messages that arrive
   before it are counted as usual. Deregistering does not wait: the socket may be full. */
static void send_mask(int fd, unsigned short attribute_type, const char *cpus, unsigned seq, int wait_for_ack)
{
    struct request request;
    start_request(&request, (unsigned short)family_id, TASKSTATS_CMD_GET, wait_for_ack ? NLM_F_ACK : 0, seq);
    add_attribute(&request, attribute_type, cpus, strlen(cpus) + 1);
    if (send_request(fd, &request) != 0)
        die(1, attribute_type == TASKSTATS_CMD_ATTR_REGISTER_CPUMASK ? "send REGISTER_CPUMASK" : "send DEREGISTER_CPUMASK");
    if (!wait_for_ack)
        return;
    static unsigned char buffer[MESSAGE_BUFFER];
    for (;;) {
        ssize_t length = recv(fd, buffer, sizeof buffer, 0);
        if (length < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOBUFS) {
                counts.enobufs++;
                continue;
            }
            die(1, "recv register ack");
        }
        size_t left = (size_t)length;
        for (struct nlmsghdr *header = (struct nlmsghdr *)buffer; NLMSG_OK(header, left); header = NLMSG_NEXT(header, left)) {
            if (header->nlmsg_type == NLMSG_ERROR && header->nlmsg_seq == seq) {
                struct nlmsgerr *error = NLMSG_DATA(header);
                if (error->error != 0) {
                    errno = -error->error;
                    die(errno == EPERM ? 3 : 1, "TASKSTATS_CMD_ATTR_REGISTER_CPUMASK");
                }
                return;
            }
        }
        decode_datagram(buffer, (size_t)length);
    }
}

static long long socket_drops(int fd)
{
    unsigned int meminfo[SK_MEMINFO_VARS] = {0};
    socklen_t size = sizeof meminfo;
    if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, meminfo, &size) != 0)
        return -1;
    return meminfo[SK_MEMINFO_DROPS];
}

/* ---- receive loops ---- */

static void run_recv(int fd)
{
    static unsigned char buffer[MESSAGE_BUFFER];
    /* A stop signal that lands between the check below and recv() would otherwise leave recv()
       blocked until the next task exits; the timeout bounds that wait. It never fires under load. */
    struct timeval timeout = {.tv_sec = 0, .tv_usec = 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    while (!stop_requested) {
        ssize_t length = recv(fd, buffer, sizeof buffer, 0);
        counts.syscalls++;
        if (length < 0) {
            if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
                continue;
            if (errno == ENOBUFS) {
                counts.enobufs++;
                continue;
            }
            die(1, "recv");
        }
        counts.wakeups++;
        decode_datagram(buffer, (size_t)length);
    }
}

static struct mmsghdr vector[MAX_BATCH];
static struct iovec iovecs[MAX_BATCH];
static unsigned char (*buffers)[MESSAGE_BUFFER];

/* recvmmsg with MSG_DONTWAIT until the queue is empty (EAGAIN, or fewer than asked for). */
static void drain_batch(int fd, int batch)
{
    for (;;) {
        for (int i = 0; i < batch; i++)
            vector[i].msg_hdr.msg_flags = 0;
        int received = recvmmsg(fd, vector, (unsigned)batch, MSG_DONTWAIT, NULL);
        counts.syscalls++;
        if (received < 0) {
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            if (errno == EINTR)
                continue;
            if (errno == ENOBUFS) {
                counts.enobufs++;
                continue;
            }
            die(1, "recvmmsg");
        }
        for (int i = 0; i < received; i++)
            decode_datagram(buffers[i], vector[i].msg_len);
        if (received < batch)
            return; /* took everything that was queued */
    }
}

static void run_batch(int fd, int batch, long interval_us)
{
    struct timespec interval = {.tv_sec = interval_us / 1000000, .tv_nsec = (interval_us % 1000000) * 1000};
    while (!stop_requested) {
        nanosleep(&interval, NULL);
        counts.wakeups++;
        drain_batch(fd, batch);
    }
}

/* After deregistering: everything still queued, without blocking. */
static void drain_rest(int fd)
{
    static unsigned char buffer[MESSAGE_BUFFER];
    for (;;) {
        ssize_t length = recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
        counts.syscalls++;
        if (length < 0) {
            if (errno == EINTR)
                continue;
            if (errno == ENOBUFS) {
                counts.enobufs++;
                continue;
            }
            return; /* EAGAIN: empty */
        }
        decode_datagram(buffer, (size_t)length);
    }
}

/* ---- main ---- */

static long vmhwm_kb(void)
{
    FILE *status = fopen("/proc/self/status", "r");
    if (status == NULL)
        return -1;
    char line[256];
    long value = -1;
    while (fgets(line, sizeof line, status) != NULL) {
        if (strncmp(line, "VmHWM:", 6) == 0) {
            value = strtol(line + 6, NULL, 10);
            break;
        }
    }
    fclose(status);
    return value;
}

static void online_cpus(char *cpus, size_t size)
{
    FILE *file = fopen("/sys/devices/system/cpu/online", "r");
    if (file == NULL || fgets(cpus, (int)size, file) == NULL) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        snprintf(cpus, size, "0-%ld", n > 0 ? n - 1 : 0);
    }
    if (file != NULL)
        fclose(file);
    cpus[strcspn(cpus, "\n")] = '\0';
}

static void json_string(const char *value)
{
    putchar('"');
    for (const char *c = value; *c; c++) {
        if (*c == '"' || *c == '\\')
            printf("\\%c", *c);
        else if ((unsigned char)*c < 0x20)
            printf("\\u%04x", (unsigned char)*c);
        else
            putchar(*c);
    }
    putchar('"');
}

static int usage(const char *problem)
{
    if (problem != NULL)
        fprintf(stderr, "listener: %s\n", problem);
    fprintf(stderr,
            "usage: listener [--mode recv|batch] [--cpus MASK] [--rcvbuf BYTES] [--comm NAME]\n"
            "                [--batch N] [--interval-us US]\n");
    return 2;
}

int main(int argc, char **argv)
{
    static const struct option options[] = {
        {"mode", required_argument, NULL, 'm'},   {"cpus", required_argument, NULL, 'c'},
        {"rcvbuf", required_argument, NULL, 'r'}, {"comm", required_argument, NULL, 'n'},
        {"batch", required_argument, NULL, 'b'},  {"interval-us", required_argument, NULL, 'i'},
        {"help", no_argument, NULL, 'h'},         {0, 0, 0, 0},
    };
    enum mode mode = MODE_RECV;
    char cpus[256] = "";
    long long rcvbuf = 0;
    int batch = 64;
    long interval_us = 1000;
    int option;
    char *end;
    while ((option = getopt_long(argc, argv, "", options, NULL)) != -1) {
        switch (option) {
        case 'm':
            if (strcmp(optarg, "recv") == 0) mode = MODE_RECV;
            else if (strcmp(optarg, "batch") == 0) mode = MODE_BATCH;
            else return usage("--mode must be recv or batch");
            break;
        case 'c':
            snprintf(cpus, sizeof cpus, "%s", optarg);
            break;
        case 'r':
            rcvbuf = strtoll(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || rcvbuf < 0)
                return usage("--rcvbuf must be bytes >= 0");
            break;
        case 'n':
            if (strlen(optarg) == 0 || strlen(optarg) > 15)
                return usage("--comm must be 1 to 15 characters");
            target_comm = optarg;
            break;
        case 'b':
            batch = (int)strtol(optarg, &end, 10);
            if (*end != '\0' || batch < 1 || batch > MAX_BATCH)
                return usage("--batch must be 1 to 1024");
            break;
        case 'i':
            interval_us = strtol(optarg, &end, 10);
            if (*end != '\0' || interval_us < 0)
                return usage("--interval-us must be >= 0");
            break;
        case 'h':
            usage(NULL);
            return 0;
        default:
            return usage(NULL);
        }
    }
    if (optind < argc)
        return usage("unexpected argument");
    if (cpus[0] == '\0')
        online_cpus(cpus, sizeof cpus);

    /* No SA_RESTART: the signal must interrupt a blocking recv or the batch sleep. */
    struct sigaction action = {0};
    action.sa_handler = on_stop;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, NULL);
    sigaction(SIGTERM, &action, NULL);

    if (mode == MODE_BATCH) {
        buffers = calloc((size_t)batch, MESSAGE_BUFFER);
        if (buffers == NULL)
            die(1, "calloc");
        for (int i = 0; i < batch; i++) {
            iovecs[i].iov_base = buffers[i];
            iovecs[i].iov_len = MESSAGE_BUFFER;
            vector[i].msg_hdr.msg_iov = &iovecs[i];
            vector[i].msg_hdr.msg_iovlen = 1;
        }
    }

    int granted = 0;
    int fd = open_socket(rcvbuf, &granted);
    family_id = resolve_family(fd);
    double start = now_seconds();
    send_mask(fd, TASKSTATS_CMD_ATTR_REGISTER_CPUMASK, cpus, 2, 1);
    fprintf(stderr, "registered rcvbuf=%d family=%d cpus=%s\n", granted, family_id, cpus);
    fflush(stderr);

    if (mode == MODE_RECV)
        run_recv(fd);
    else
        run_batch(fd, batch, interval_us);

    send_mask(fd, TASKSTATS_CMD_ATTR_DEREGISTER_CPUMASK, cpus, 3, 0);
    drain_rest(fd);
    long long drops = socket_drops(fd);
    double seconds = now_seconds() - start;
    close(fd);

    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    double utime = (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6;
    double stime = (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6;

    printf("{\"mode\":\"%s\",\"cpus\":", mode == MODE_RECV ? "recv" : "batch");
    json_string(cpus);
    printf(",\"rcvbuf_requested\":%lld,\"rcvbuf_granted\":%d,\"messages\":%lld,\"records\":%lld,\"comm\":",
           rcvbuf, granted, counts.messages, counts.records);
    json_string(target_comm != NULL ? target_comm : "");
    printf(",\"comm_records\":%lld,\"other_messages\":%lld,\"malformed\":%lld,\"drops\":%lld,\"enobufs\":%lld,"
           "\"wakeups\":%lld,\"syscalls\":%lld,\"struct_version\":%u,\"utime_s\":%.6f,\"stime_s\":%.6f,"
           "\"cpu_s\":%.6f,\"vmhwm_kb\":%ld,\"seconds\":%.6f}\n",
           counts.comm_records, counts.other_messages, counts.malformed, drops, counts.enobufs, counts.wakeups,
           counts.syscalls, counts.struct_version, utime, stime, utime + stime, vmhwm_kb(), seconds);
    fflush(stdout);
    return 0;
}
