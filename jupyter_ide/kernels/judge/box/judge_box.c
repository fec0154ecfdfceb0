/*
 * judge-box: run one program inside a judge sandbox container and report how it ended.
 *
 * Built once as a static binary on the host (or in the C image) and bind-mounted read-only
 * into every judge container, so the container holds nothing but tini, an idle `sleep`,
 * this process and the program: the container's cgroup then measures the program alone.
 *
 *   judge-box --serve SLOT   (the container's command: jobs one after another, until removed)
 *   judge-box [options] -- argv...   (the same job, from the command line, for tests)
 *
 * Serving, it blocks opening SLOT/go (a FIFO) until the host has written the job (SLOT/job:
 * NUL-separated options and argv as below), reset the cgroup's peak memory and noted its CPU
 * counter, then runs the job, kills every other process of the container (so nothing the
 * program left can touch the report), writes the report to SLOT/result, signals SLOT/done
 * and waits on SLOT/go again: the host may run more jobs of the same submission in the box
 * (the autograder's test cases), each measured alone, then removes the container.
 *
 * The program runs as the same user as judge-box and can write SLOT/result and SLOT/done
 * itself. So the host writes a one-time code per job into SLOT/go (not into SLOT/job, which
 * the program can read): "CODE\n" or "CODE TOKEN\n", each 32 lowercase hex digits. judge-box
 * keeps CODE in its memory only and puts it in its report; the host rejects a report without
 * it. judge-box is not dumpable (PR_SET_DUMPABLE 0), so the program can neither ptrace it nor
 * read its memory through /proc. TOKEN, when given, is handed to the program on the file
 * descriptor named by --token-fd: a trusted grading script proves its own report with it.
 *
 *     --go FIFO        wait until the host writes one byte to FIFO (the host resets the
 *                      cgroup's peak memory and notes its CPU counter first)
 *     --stdin FILE     the program's stdin (default /dev/null)
 *     --stdout FILE    file receiving stdout (default /tmp/.judge-stdout)
 *     --stderr FILE    file receiving stderr (default /tmp/.judge-stderr)
 *     --merge          stderr goes to the stdout file
 *     --cwd DIR        working directory
 *     --wall SEC       wall clock limit: the process group is killed after SEC seconds
 *     --cpu SEC        CPU limit: RLIMIT_CPU (whole seconds, rounded up) and, when
 *                      --cpu-file is readable, the cgroup's CPU counter polled every 5 ms
 *     --cpu-file FILE  cgroup v1 cpuacct.usage (ns) or v2 cpu.stat (usage_usec) to poll
 *     --stack KB --fsize KB --as KB   RLIMIT_STACK, RLIMIT_FSIZE, RLIMIT_AS
 *     --collect DIR    after a successful run, tar DIR into SLOT/artefact (serving only)
 *     --token-fd N     give the program the job's TOKEN (and a newline) on a pipe at fd N
 *
 * Report (SLOT/result, or stdout): one header line
 *   JUDGEBOX code=CODE exit=N signal=N wall=SEC timeout=0|1 cpu_timeout=0|1 exec_errno=N
 *            collected=0|1 rss=KB stdout=BYTES stderr=BYTES
 *   (code: the job's one-time code, "-" when not serving; rss: the program's peak resident
 *   set, wait4)
 * followed by the bytes of the stdout file and then of the stderr file.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void limit(int resource, rlim_t soft, rlim_t hard) {
    struct rlimit rl = {soft, hard};
    setrlimit(resource, &rl);
}

/* Make the program (and all it starts) the OOM killer's first choice in the box, so a memory
 * hog is killed before judge-box, which must live to report. Raising the score needs no
 * privilege. */
static void prefer_as_oom_victim(void) {
    int fd = open("/proc/self/oom_score_adj", O_WRONLY);
    if (fd < 0) return;
    (void)!write(fd, "1000", 4);
    close(fd);
}

/* CPU seconds read from a cgroup counter file; negative when unreadable. */
static double cgroup_cpu(const char *path) {
    char buf[4096];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0) return -1;
    buf[n] = 0;
    char *usec = strstr(buf, "usage_usec ");
    if (usec) return strtod(usec + 11, NULL) / 1e6;
    return strtod(buf, NULL) / 1e9;
}

static void copy_out(int dst, const char *path, long size) {
    char buf[65536];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    long left = size;
    while (fd >= 0 && left > 0) {
        ssize_t n = read(fd, buf, left < (long)sizeof buf ? (size_t)left : sizeof buf);
        if (n <= 0) break;
        ssize_t off = 0;
        while (off < n) {
            ssize_t w = write(dst, buf + off, (size_t)(n - off));
            if (w <= 0) _exit(3);
            off += w;
        }
        left -= n;
    }
    /* Pad when the file shrank, so the host's framing still holds. */
    memset(buf, 0, sizeof buf);
    while (left > 0) {
        ssize_t w = write(dst, buf, left < (long)sizeof buf ? (size_t)left : sizeof buf);
        if (w <= 0) _exit(3);
        left -= w;
    }
    if (fd >= 0) close(fd);
}

/* Whether a thread of process `pid` still runs (is not yet a zombie): it could still write. */
static int runs(const char *pid) {
    char path[300];
    snprintf(path, sizeof path, "/proc/%s/task", pid);
    DIR *tasks = opendir(path);
    if (!tasks) return 0; /* gone */
    int running = 0;
    struct dirent *t;
    while (!running && (t = readdir(tasks)) != NULL) {
        if (t->d_name[0] < '0' || t->d_name[0] > '9') continue;
        char stat_path[600], buf[512];
        snprintf(stat_path, sizeof stat_path, "/proc/%s/task/%s/stat", pid, t->d_name);
        int fd = open(stat_path, O_RDONLY | O_CLOEXEC);
        if (fd < 0) continue;
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (n <= 0) continue;
        buf[n] = 0;
        char *end = strrchr(buf, ')'); /* the state follows the command name */
        char state = end && end[1] == ' ' ? end[2] : '?';
        running = state != 'Z' && state != 'X';
    }
    closedir(tasks);
    return running;
}

/* After kill(-1): wait until every other process of the container (but its init) is dead, so
 * nothing the program started can still be inside a write to the report when we write it. */
static void wait_for_the_rest(void) {
    char self[32];
    snprintf(self, sizeof self, "%d", (int)getpid());
    double until = now() + 10.0;
    for (;;) {
        while (waitpid(-1, NULL, WNOHANG) > 0) {}
        DIR *proc = opendir("/proc");
        if (!proc) return;
        int left = 0;
        struct dirent *e;
        while ((e = readdir(proc)) != NULL) {
            if (e->d_name[0] < '1' || e->d_name[0] > '9') continue;
            if (!strcmp(e->d_name, "1") || !strcmp(e->d_name, self)) continue;
            if (runs(e->d_name)) {
                left = 1;
                kill((pid_t)strtol(e->d_name, NULL, 10), SIGKILL);
            }
        }
        closedir(proc);
        if (!left) return;
        if (now() > until) {
            fprintf(stderr, "judge-box: a process of the program outlived SIGKILL\n");
            _exit(7);
        }
        struct timespec tick = {0, 1000000};
        nanosleep(&tick, NULL);
    }
}

static long file_size(const char *path) {
    struct stat st;
    return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

static char slot_path[4096];
/* The current job's one-time code and the program's token (serving), from SLOT/go. */
#define SECRET_LEN 32
static char job_code[SECRET_LEN + 1] = "-";
static char job_token[SECRET_LEN + 1];

static int is_secret(const char *s) {
    for (int i = 0; i < SECRET_LEN; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

/* Read "CODE\n" or "CODE TOKEN\n" from the go FIFO: 1 when read, 0 when the writer wrote
 * nothing, -1 (errno set) on an error, -2 when it is malformed. */
static int read_go(int fd) {
    char msg[2 * SECRET_LEN + 2];
    size_t got = 0;
    while (got < sizeof msg) {
        ssize_t n = read(fd, msg + got, sizeof msg - got);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) break;
        got += (size_t)n;
        if (msg[got - 1] == '\n') break;
    }
    if (got == 0) return 0;
    int ok = got == SECRET_LEN + 1 || got == 2 * SECRET_LEN + 2;
    ok = ok && msg[got - 1] == '\n' && is_secret(msg);
    if (ok && got == 2 * SECRET_LEN + 2) ok = msg[SECRET_LEN] == ' ' && is_secret(msg + SECRET_LEN + 1);
    if (!ok) return -2;
    memcpy(job_code, msg, SECRET_LEN);
    job_code[SECRET_LEN] = 0;
    job_token[0] = 0;
    if (got == 2 * SECRET_LEN + 2) {
        memcpy(job_token, msg + SECRET_LEN + 1, SECRET_LEN);
        job_token[SECRET_LEN] = 0;
    }
    memset(msg, 0, sizeof msg);
    return 1;
}

static const char *in_slot(const char *name) {
    static char paths[4][4200];
    static int next = 0;
    char *p = paths[next++ % 4];
    snprintf(p, 4200, "%s/%s", slot_path, name);
    return p;
}

/* Serving: wait for the host's go, then read the job's NUL-separated arguments. */
static char **serve_job(const char *slot, int *count) {
    snprintf(slot_path, sizeof slot_path, "%s", slot);
    for (;;) {
        int go = open(in_slot("go"), O_RDONLY | O_CLOEXEC);
        int got = go < 0 ? -1 : read_go(go);
        int e = errno;
        if (go >= 0) close(go);
        if (got == 1) break;
        if (got == 0) continue; /* a writer came and went without a byte: wait again */
        if (got == -2) {
            fprintf(stderr, "judge-box: a malformed go signal\n");
            _exit(4);
        }
        fprintf(stderr, "judge-box: no go signal (%s)\n", strerror(e));
        _exit(4);
    }
    static char job[1 << 16];
    int fd = open(in_slot("job"), O_RDONLY | O_CLOEXEC);
    if (fd < 0) { fprintf(stderr, "judge-box: no job (%s)\n", strerror(errno)); _exit(4); }
    ssize_t n = read(fd, job, sizeof job - 1);
    close(fd);
    if (n <= 0) { fprintf(stderr, "judge-box: empty job\n"); _exit(4); }
    job[n] = 0;
    static char *args[1024];
    int k = 0;
    args[k++] = "judge-box";
    for (ssize_t off = 0; off < n && k < 1023; off += (ssize_t)strlen(job + off) + 1)
        args[k++] = job + off;
    args[k] = NULL;
    *count = k;
    return args;
}

/* Run one job; serving, report it in the slot and return 0 to wait for the next one. */
static int run_job(int argc, char **argv, int serving) {
    const char *collect = NULL;
    const char *go = NULL, *in = "/dev/null", *out = "/tmp/.judge-stdout";
    const char *err = "/tmp/.judge-stderr", *cwd = NULL, *cpu_file = NULL;
    double wall = 0, cpu = 0;
    long stack_kb = 0, fsize_kb = 0, as_kb = 0;
    int merge = 0, token_fd = -1, i;
    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--")) { i++; break; }
        if (!strcmp(a, "--merge")) { merge = 1; continue; }
        if (!v) { fprintf(stderr, "judge-box: %s needs a value\n", a); return 2; }
        if (!strcmp(a, "--go")) go = v;
        else if (!strcmp(a, "--stdin")) in = v;
        else if (!strcmp(a, "--stdout")) out = v;
        else if (!strcmp(a, "--stderr")) err = v;
        else if (!strcmp(a, "--cwd")) cwd = v;
        else if (!strcmp(a, "--wall")) wall = strtod(v, NULL);
        else if (!strcmp(a, "--cpu")) cpu = strtod(v, NULL);
        else if (!strcmp(a, "--cpu-file")) cpu_file = v;
        else if (!strcmp(a, "--stack")) stack_kb = strtol(v, NULL, 10);
        else if (!strcmp(a, "--fsize")) fsize_kb = strtol(v, NULL, 10);
        else if (!strcmp(a, "--as")) as_kb = strtol(v, NULL, 10);
        else if (!strcmp(a, "--collect")) collect = v;
        else if (!strcmp(a, "--token-fd")) token_fd = (int)strtol(v, NULL, 10);
        else { fprintf(stderr, "judge-box: unknown option %s\n", a); return 2; }
        i++;
    }
    if (i >= argc) { fprintf(stderr, "judge-box: no program given\n"); return 2; }
    char **prog = argv + i;

    if (go) {
        int fd = open(go, O_RDONLY | O_CLOEXEC);
        char c;
        if (fd >= 0) { (void)!read(fd, &c, 1); close(fd); }
    }

    if (token_fd >= 0 && (token_fd < 3 || token_fd > 64 || !job_token[0])) {
        fprintf(stderr, "judge-box: --token-fd needs a descriptor from 3 to 64 and a token\n");
        return 2;
    }
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) return 2;
    int token[2] = {-1, -1};
    if (token_fd >= 0) {
        if (pipe2(token, O_CLOEXEC) != 0) return 2;
        char line[SECRET_LEN + 1];
        memcpy(line, job_token, SECRET_LEN);
        line[SECRET_LEN] = '\n';
        if (write(token[1], line, sizeof line) != (ssize_t)sizeof line) return 2;
        close(token[1]);
        memset(line, 0, sizeof line);
    }
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);

    double cpu_base = cpu_file ? cgroup_cpu(cpu_file) : -1;
    double start = now();
    pid_t pid = fork();
    if (pid < 0) return 2;
    if (pid == 0) {
        sigprocmask(SIG_UNBLOCK, &chld, NULL);
        setpgid(0, 0);
        close(report[0]);
        /* The program must not learn the job's code: wipe it (and the token, which it gets
         * on its descriptor) from this copy of our memory before it can be read. */
        memset(job_code, 0, sizeof job_code);
        memset(job_token, 0, sizeof job_token);
        int fin = open(in, O_RDONLY | O_CLOEXEC);
        int fout = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        int ferr = merge ? fout : open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fin < 0 || fout < 0 || ferr < 0) {
            int e = errno;
            (void)!write(report[1], &e, sizeof e);
            _exit(127);
        }
        dup2(fin, 0);
        dup2(fout, 1);
        dup2(ferr, 2);
        if (token_fd >= 0) {
            if (report[1] == token_fd) report[1] = fcntl(report[1], F_DUPFD_CLOEXEC, 65);
            if (token[0] == token_fd) fcntl(token_fd, F_SETFD, 0);
            else dup2(token[0], token_fd);
        }
        if (cwd && chdir(cwd) != 0) {
            int e = errno;
            (void)!write(report[1], &e, sizeof e);
            _exit(127);
        }
        if (cpu > 0) {
            rlim_t secs = (rlim_t)cpu + ((double)(rlim_t)cpu < cpu ? 1 : 0);
            limit(RLIMIT_CPU, secs, secs + 1);
        }
        if (stack_kb > 0) limit(RLIMIT_STACK, (rlim_t)stack_kb * 1024, (rlim_t)stack_kb * 1024);
        if (fsize_kb > 0) limit(RLIMIT_FSIZE, (rlim_t)fsize_kb * 1024, (rlim_t)fsize_kb * 1024);
        if (as_kb > 0) limit(RLIMIT_AS, (rlim_t)as_kb * 1024, (rlim_t)as_kb * 1024);
        signal(SIGPIPE, SIG_DFL);
        /* Dumpable again (execve would make it so too): /proc/self/oom_score_adj belongs to
         * the user again, and nothing of ours is left to read in this process. */
        prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);
        prefer_as_oom_victim();
        execvp(prog[0], prog);
        int e = errno;
        (void)!write(report[1], &e, sizeof e);
        _exit(127);
    }
    close(report[1]);
    if (token[0] >= 0) close(token[0]);
    setpgid(pid, pid);

    int status = 0, timed_out = 0, cpu_out = 0;
    struct rusage usage;
    memset(&usage, 0, sizeof usage);
    for (;;) {
        pid_t done = wait4(pid, &status, WNOHANG, &usage);
        if (done == pid) break;
        double elapsed = now() - start;
        if (wall > 0 && elapsed >= wall) { timed_out = 1; break; }
        if (cpu > 0 && cpu_base >= 0) {
            double used = cgroup_cpu(cpu_file);
            if (used >= 0 && used - cpu_base > cpu) { cpu_out = 1; break; }
        }
        struct timespec tick = {0, 5000000};
        sigtimedwait(&chld, NULL, &tick);
    }
    if (timed_out || cpu_out) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        wait4(pid, &status, 0, &usage);
    }
    double elapsed = now() - start;
    kill(-pid, SIGKILL); /* whatever the program left behind */
    if (serving) {
        /* Everything but us and the container's init: nothing may touch the report. */
        kill(-1, SIGKILL);
        wait_for_the_rest();
    }

    int exec_errno = 0;
    if (read(report[0], &exec_errno, sizeof exec_errno) != (ssize_t)sizeof exec_errno) exec_errno = 0;

    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 0;
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    long out_size = file_size(out), err_size = merge ? 0 : file_size(err);
    int collected = 0;
    if (serving && collect && !timed_out && !cpu_out && WIFEXITED(status) && code == 0) {
        pid_t tar = fork();
        if (tar == 0) {
            int dst = open(in_slot("artefact"), O_WRONLY | O_TRUNC);
            if (dst < 0) _exit(5);
            dup2(dst, 1);
            execlp("tar", "tar", "-C", collect, "-cf", "-", ".", (char *)NULL);
            _exit(5);
        }
        int tar_status = 0;
        if (tar > 0 && waitpid(tar, &tar_status, 0) == tar && WIFEXITED(tar_status))
            collected = WEXITSTATUS(tar_status) == 0;
    }
    int dst = serving ? open(in_slot("result"), O_WRONLY | O_TRUNC) : 1;
    if (dst < 0) _exit(6);
    char header[512];
    int len = snprintf(header, sizeof header,
                       "JUDGEBOX code=%s exit=%d signal=%d wall=%.6f timeout=%d cpu_timeout=%d "
                       "exec_errno=%d collected=%d rss=%ld stdout=%ld stderr=%ld\n",
                       job_code, code, sig, elapsed, timed_out, cpu_out, exec_errno, collected,
                       usage.ru_maxrss, out_size, err_size);
    if (write(dst, header, (size_t)len) != len) _exit(6);
    copy_out(dst, out, out_size);
    if (!merge) copy_out(dst, err, err_size);
    if (!serving) return 0;
    close(dst);
    close(report[0]);
    int done = open(in_slot("done"), O_WRONLY | O_CLOEXEC);
    if (done >= 0) { (void)!write(done, "d", 1); close(done); }
    return 0;
}

int main(int argc, char **argv) {
    /* Not dumpable: a program of the same user can neither ptrace judge-box nor read its
     * memory (the job's code) through /proc/PID/mem. */
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0) {
        fprintf(stderr, "judge-box: cannot make itself non-dumpable (%s)\n", strerror(errno));
        return 4;
    }
    if (!(argc == 3 && !strcmp(argv[1], "--serve"))) return run_job(argc, argv, 0);
    const char *slot = argv[2];
    for (;;) {
        int count = 0;
        char **job = serve_job(slot, &count);
        int code = run_job(count, job, 1);
        if (code != 0) return code;
    }
}
