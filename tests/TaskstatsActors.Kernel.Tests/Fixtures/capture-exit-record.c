/*
 * Captures one real exit record from this kernel as a test fixture.
 *
 * Registers a TASKSTATS listener for cpumask "0-1", forks a child named "fixture-v16" that burns a
 * little CPU and exits with status 7, and writes the raw struct taskstats payload (the
 * TASKSTATS_TYPE_STATS attribute inside the child's TASKSTATS_TYPE_AGGR_PID) to
 * taskstats-v16-real.bin, plus a sidecar taskstats-v16-real.txt with what the parent knows about
 * the child, so the test can check the decoded record against it.
 *
 * Run once by hand, as root (the command needs CAP_NET_ADMIN); the tests only read the output:
 *   cc -O2 -Wall -o /tmp/capture-exit-record capture-exit-record.c
 *   sudo /tmp/capture-exit-record [output-directory]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHILD_NAME "fixture-v16"
#define CHILD_STATUS 7

static char buffer[1 << 16];

static void die(const char *what)
{
    perror(what);
    exit(1);
}

/* Appends one attribute to the message in buf and returns the new message length. */
static size_t put_attr(char *buf, size_t len, uint16_t type, const void *data, uint16_t size)
{
    struct nlattr *attr = (struct nlattr *)(buf + NLMSG_ALIGN(len));
    attr->nla_type = type;
    attr->nla_len = NLA_HDRLEN + size;
    memcpy((char *)attr + NLA_HDRLEN, data, size);
    return NLMSG_ALIGN(len) + NLA_ALIGN(attr->nla_len);
}

static void send_genl(int fd, uint16_t family, uint8_t cmd, uint16_t attr_type,
                      const void *data, uint16_t size, uint32_t seq)
{
    char msg[512];
    memset(msg, 0, sizeof msg);
    struct nlmsghdr *nlh = (struct nlmsghdr *)msg;
    struct genlmsghdr *genl = (struct genlmsghdr *)NLMSG_DATA(nlh);
    genl->cmd = cmd;
    genl->version = 1;
    size_t len = NLMSG_HDRLEN + GENL_HDRLEN;
    len = put_attr(msg, len, attr_type, data, size);
    nlh->nlmsg_len = len;
    nlh->nlmsg_type = family;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    nlh->nlmsg_seq = seq;
    struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
    if (sendto(fd, msg, len, 0, (struct sockaddr *)&kernel, sizeof kernel) < 0)
        die("sendto");
}

/* Reads replies until the ack for seq; returns the family id if one was in a reply, else 0. */
static uint16_t read_until_ack(int fd, uint32_t seq)
{
    uint16_t family = 0;
    for (;;) {
        ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n < 0)
            die("recv");
        for (struct nlmsghdr *nlh = (struct nlmsghdr *)buffer; NLMSG_OK(nlh, (size_t)n);
             nlh = NLMSG_NEXT(nlh, n)) {
            if (nlh->nlmsg_seq != seq)
                continue;
            if (nlh->nlmsg_type == NLMSG_ERROR) {
                struct nlmsgerr *err = (struct nlmsgerr *)NLMSG_DATA(nlh);
                if (err->error != 0) {
                    errno = -err->error;
                    die("netlink request");
                }
                return family;
            }
            char *attrs = (char *)NLMSG_DATA(nlh) + GENL_HDRLEN;
            int left = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
            while (left >= NLA_HDRLEN) {
                struct nlattr *attr = (struct nlattr *)attrs;
                if (attr->nla_len < NLA_HDRLEN || attr->nla_len > left)
                    break;
                if (attr->nla_type == CTRL_ATTR_FAMILY_ID)
                    memcpy(&family, attrs + NLA_HDRLEN, sizeof family);
                left -= NLA_ALIGN(attr->nla_len);
                attrs += NLA_ALIGN(attr->nla_len);
            }
        }
    }
}

static void burn_cpu(void)
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    volatile uint64_t x = 1;
    do {
        for (int i = 0; i < 100000; i++)
            x = x * 6364136223846793005ULL + 1442695040888963407ULL;
        clock_gettime(CLOCK_MONOTONIC, &now);
    } while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) < 50000000L);
}

/* Looks through one TASKSTATS_CMD_NEW message for the AGGR_PID record of pid; writes it out if found. */
static int find_record(struct nlmsghdr *nlh, pid_t pid, const char *bin_path, size_t *written,
                       uint16_t *version)
{
    char *attrs = (char *)NLMSG_DATA(nlh) + GENL_HDRLEN;
    int left = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
    while (left >= NLA_HDRLEN) {
        struct nlattr *attr = (struct nlattr *)attrs;
        if (attr->nla_len < NLA_HDRLEN || attr->nla_len > left)
            return 0;
        if (attr->nla_type == TASKSTATS_TYPE_AGGR_PID) {
            char *inner = attrs + NLA_HDRLEN;
            int inner_left = attr->nla_len - NLA_HDRLEN;
            uint32_t record_pid = 0;
            char *stats = NULL;
            size_t stats_len = 0;
            while (inner_left >= NLA_HDRLEN) {
                struct nlattr *in = (struct nlattr *)inner;
                if (in->nla_len < NLA_HDRLEN || in->nla_len > inner_left)
                    break;
                if (in->nla_type == TASKSTATS_TYPE_PID)
                    memcpy(&record_pid, inner + NLA_HDRLEN, sizeof record_pid);
                else if (in->nla_type == TASKSTATS_TYPE_STATS) {
                    stats = inner + NLA_HDRLEN;
                    stats_len = in->nla_len - NLA_HDRLEN;
                }
                inner_left -= NLA_ALIGN(in->nla_len);
                inner += NLA_ALIGN(in->nla_len);
            }
            if (record_pid == (uint32_t)pid && stats != NULL) {
                FILE *out = fopen(bin_path, "wb");
                if (out == NULL || fwrite(stats, 1, stats_len, out) != stats_len || fclose(out) != 0)
                    die(bin_path);
                *written = stats_len;
                memcpy(version, stats, sizeof *version);
                return 1;
            }
        }
        left -= NLA_ALIGN(attr->nla_len);
        attrs += NLA_ALIGN(attr->nla_len);
    }
    return 0;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : ".";
    char bin_path[4096], txt_path[4096];
    snprintf(bin_path, sizeof bin_path, "%s/taskstats-v16-real.bin", dir);
    snprintf(txt_path, sizeof txt_path, "%s/taskstats-v16-real.txt", dir);

    int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
    if (fd < 0)
        die("socket");
    struct sockaddr_nl local = { .nl_family = AF_NETLINK };
    if (bind(fd, (struct sockaddr *)&local, sizeof local) < 0)
        die("bind");
    int rcvbuf = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof rcvbuf);
    /* Never hang: give up if the record does not come within ten seconds. */
    struct timeval timeout = { .tv_sec = 10 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

    send_genl(fd, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, CTRL_ATTR_FAMILY_NAME,
              TASKSTATS_GENL_NAME, sizeof TASKSTATS_GENL_NAME, 1);
    uint16_t family = read_until_ack(fd, 1);
    if (family == 0) {
        fprintf(stderr, "family %s not found\n", TASKSTATS_GENL_NAME);
        return 1;
    }

    const char mask[] = "0-1";
    send_genl(fd, family, TASKSTATS_CMD_GET, TASKSTATS_CMD_ATTR_REGISTER_CPUMASK, mask, sizeof mask, 2);
    read_until_ack(fd, 2);

    pid_t child = fork();
    if (child < 0)
        die("fork");
    if (child == 0) {
        /* The listener hears only exits on CPUs 0-1: make sure the child exits on CPU 0. */
        cpu_set_t cpu0;
        CPU_ZERO(&cpu0);
        CPU_SET(0, &cpu0);
        sched_setaffinity(0, sizeof cpu0, &cpu0);
        prctl(PR_SET_NAME, CHILD_NAME, 0, 0, 0);
        burn_cpu();
        _exit(CHILD_STATUS);
    }

    int status = 0;
    if (waitpid(child, &status, 0) < 0)
        die("waitpid");

    size_t written = 0;
    uint16_t version = 0;
    while (written == 0) {
        ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n < 0)
            die("recv");
        for (struct nlmsghdr *nlh = (struct nlmsghdr *)buffer; NLMSG_OK(nlh, (size_t)n);
             nlh = NLMSG_NEXT(nlh, n)) {
            if (nlh->nlmsg_type == family && find_record(nlh, child, bin_path, &written, &version))
                break;
        }
    }

    FILE *txt = fopen(txt_path, "w");
    if (txt == NULL)
        die(txt_path);
    fprintf(txt, "# Written by capture-exit-record.c with %s; what the parent knew about the child.\n", bin_path);
    fprintf(txt, "pid=%d\n", (int)child);
    fprintf(txt, "ppid=%d\n", (int)getpid());
    fprintf(txt, "uid=%u\n", (unsigned)getuid());
    fprintf(txt, "gid=%u\n", (unsigned)getgid());
    fprintf(txt, "comm=%s\n", CHILD_NAME);
    fprintf(txt, "exit_status=%d\n", WEXITSTATUS(status));
    fprintf(txt, "wait_status=%d\n", status);
    fprintf(txt, "version=%u\n", (unsigned)version);
    fprintf(txt, "length=%zu\n", written);
    if (fclose(txt) != 0)
        die(txt_path);

    printf("captured pid %d: version %u, %zu bytes -> %s\n", (int)child, (unsigned)version, written, bin_path);
    return 0;
}
