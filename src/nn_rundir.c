#include "nnmpi/nn_rundir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nnmpi/nn_atomic_file.h"

#define LOCK_NAME "lock"

/* What the lock file says of its holder. The kernel names the holder's pid (F_GETLK); a
 * text that names another pid was left by an ended run and is not repeated. */
static void read_holder(int fd, char *out, size_t size)
{
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    long pid = fcntl(fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK ? (long)lock.l_pid : 0;
    ssize_t n = pread(fd, out, size - 1, 0);
    out[n > 0 ? n : 0] = '\0';
    out[strcspn(out, "\n")] = '\0';
    char mine[32];
    snprintf(mine, sizeof mine, "pid %ld,", pid);
    if (n > 0 && (pid <= 0 || strstr(out, mine))) return; /* pid 0: held on another host */
    if (pid > 0)
        snprintf(out, size, "pid %ld, which has not described itself yet", pid);
    else
        snprintf(out, size, "a run that has not described itself yet");
}

NnStatus nn_rundir_lock(NnRunDir *rd, const char *runs, const char *name, char err[NN_ERR_LEN])
{
    memset(rd, 0, sizeof *rd);
    rd->lock_fd = -1;
    snprintf(rd->dir, sizeof rd->dir, "%s", runs);
    char dir[sizeof rd->path];
    snprintf(dir, sizeof dir, "%s%s%s", runs, name ? "/" : "", name ? name : "");
    if (nn_make_dirs(dir, err) != NN_OK) return NN_REFUSED;
    char path[sizeof dir + 16];
    snprintf(path, sizeof path, "%s/" LOCK_NAME, dir);
    struct stat st;
    if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode))
        return nn_refuse(err, "%s: not a regular file; nn-mpi keeps its lock there", path);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0)
        return nn_refuse(err, "%s: cannot create the run directory's lock: %s", path,
                         strerror(errno));
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    if (fcntl(fd, F_SETLK, &lock) != 0) {
        int e = errno;
        if (e == EACCES || e == EAGAIN) {
            char holder[512];
            read_holder(fd, holder, sizeof holder);
            close(fd);
            return nn_refuse(err,
                             "%s is in use by another live run (%s); one run at a time per "
                             "directory: wait for it to end, or choose another [run] dir",
                             dir, holder);
        }
        close(fd);
        return nn_fail(err, "%s: cannot lock (%s); this file system may not support locks",
                       path, strerror(e));
    }
    rd->lock_fd = fd;
    nn_rundir_describe_holder(rd); /* at once: the text may name an ended run */
    /* Probe for writing now, not at the first checkpoint an epoch later. */
    char probe[sizeof dir + 32];
    snprintf(probe, sizeof probe, "%s/.write-probe.%ld", dir, (long)getpid());
    int pfd = open(probe, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (pfd < 0 || write(pfd, "x", 1) != 1) {
        int e = errno;
        if (pfd >= 0) close(pfd);
        unlink(probe);
        nn_rundir_unlock(rd);
        return nn_refuse(err, "%s: cannot write in the run directory: %s", dir, strerror(e));
    }
    close(pfd);
    unlink(probe);
    return NN_OK;
}

NnStatus nn_rundir_check(NnRunDir *rd, const char *runs, const char *name, char err[NN_ERR_LEN])
{
    memset(rd, 0, sizeof *rd);
    rd->lock_fd = -1;
    rd->dry = 1;
    snprintf(rd->dir, sizeof rd->dir, "%s", runs);
    char dir[sizeof rd->path];
    snprintf(dir, sizeof dir, "%s%s%s", runs, name ? "/" : "", name ? name : "");
    struct stat st;
    if (stat(dir, &st) != 0) return NN_OK; /* a real run would create it */
    if (!S_ISDIR(st.st_mode)) return nn_refuse(err, "%s: not a directory", dir);
    if (access(dir, W_OK | X_OK) != 0)
        return nn_refuse(err, "%s: cannot write in the run directory: %s", dir, strerror(errno));
    char path[sizeof dir + 16];
    snprintf(path, sizeof path, "%s/" LOCK_NAME, dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) return NN_OK;
    struct flock lock = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
    int held = fcntl(fd, F_GETLK, &lock) == 0 && lock.l_type != F_UNLCK;
    char holder[512] = "";
    if (held) read_holder(fd, holder, sizeof holder);
    close(fd);
    if (held)
        return nn_refuse(err,
                         "%s is in use by another live run (%s); one run at a time per "
                         "directory: wait for it to end, or choose another [run] dir",
                         dir, holder);
    return NN_OK;
}

void nn_rundir_unlock(NnRunDir *rd)
{
    if (rd->lock_fd >= 0) close(rd->lock_fd); /* closing releases the fcntl lock */
    rd->lock_fd = -1;
}

/* N of a name "version_N", or -1. */
static int version_of_name(const char *name)
{
    if (strncmp(name, "version_", 8) != 0 || name[8] < '0' || name[8] > '9') return -1;
    char *end;
    long v = strtol(name + 8, &end, 10);
    return *end == '\0' && v <= 1000000000L ? (int)v : -1;
}

static int compare_ints(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

NnStatus nn_rundir_versions(const char *dir, int **versions, int *count, char err[NN_ERR_LEN])
{
    *versions = NULL;
    *count = 0;
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT) return NN_OK;
        return nn_fail(err, "%s: cannot list the runs: %s", dir, strerror(errno));
    }
    int cap = 0;
    NnStatus status = NN_OK;
    for (struct dirent *e; (e = readdir(d));) {
        int v = version_of_name(e->d_name);
        if (v < 0) continue;
        char path[NN_PATH_LEN + 300];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        if (*count == cap) {
            cap = cap ? 2 * cap : 8;
            int *bigger = realloc(*versions, sizeof(int) * (size_t)cap);
            if (!bigger) {
                status = nn_fail(err, "out of memory listing %s", dir);
                break;
            }
            *versions = bigger;
        }
        (*versions)[(*count)++] = v;
    }
    closedir(d);
    if (status != NN_OK) {
        free(*versions);
        *versions = NULL;
        *count = 0;
        return status;
    }
    if (*count) qsort(*versions, (size_t)*count, sizeof(int), compare_ints);
    return NN_OK;
}

int nn_rundir_has_loose_checkpoints(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int found = 0;
    for (struct dirent *e; !found && (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        found = strncmp(e->d_name, "ckpt-", 5) == 0 && n > 3 && strcmp(e->d_name + n - 3, ".h5") == 0;
    }
    closedir(d);
    return found;
}

void nn_rundir_new_id(char run_id[NN_RUN_ID_LEN])
{
    unsigned random = 0;
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, &random, sizeof random) != (ssize_t)sizeof random) {
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        random = (unsigned)now.tv_nsec ^ (unsigned)getpid() * 2654435761u;
    }
    if (fd >= 0) close(fd);
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    char stamp[16];
    strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &utc);
    snprintf(run_id, NN_RUN_ID_LEN, "%.15s-%06x", stamp, random & 0xffffffu);
}

NnStatus nn_rundir_check_name(const char *name, char err[NN_ERR_LEN])
{
    size_t len = strlen(name);
    int ok = len >= 1 && len < NN_RUN_NAME_LEN && name[0] != '.';
    for (size_t i = 0; ok && i < len; i++)
        ok = (name[i] >= 'a' && name[i] <= 'z') || (name[i] >= 'A' && name[i] <= 'Z') ||
             (name[i] >= '0' && name[i] <= '9') || strchr("._-", name[i]);
    if (!ok)
        return nn_fail(err, "run name '%s': use 1 to %d letters, digits, '.', '_' or '-', not "
                            "starting with '.'",
                       name, NN_RUN_NAME_LEN - 1);
    return NN_OK;
}

void nn_rundir_version_name(int version, char name[NN_RUN_NAME_LEN])
{
    snprintf(name, NN_RUN_NAME_LEN, "version_%d", version);
}

void nn_rundir_read_id(const char *dir, const char *name, char run_id[NN_RUN_ID_LEN])
{
    char path[NN_PATH_LEN + NN_RUN_NAME_LEN + 16];
    snprintf(path, sizeof path, "%s/%s/run_id", dir, name);
    run_id[0] = '\0';
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) return;
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (!fgets(run_id, NN_RUN_ID_LEN, f)) run_id[0] = '\0';
    run_id[strcspn(run_id, "\n")] = '\0';
    fclose(f);
}

/* The first subdirectory of dir that holds a run (with run_id when not NULL). */
static int scan_runs(const char *dir, const char *run_id, char name[NN_RUN_NAME_LEN])
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int found = 0;
    for (struct dirent *e; !found && (e = readdir(d));) {
        if (e->d_name[0] == '.' || strlen(e->d_name) >= NN_RUN_NAME_LEN) continue;
        char path[NN_PATH_LEN + 300], id[NN_RUN_ID_LEN];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (lstat(path, &st) != 0 || !S_ISDIR(st.st_mode)) continue;
        nn_rundir_read_id(dir, e->d_name, id);
        found = run_id ? id[0] && strcmp(id, run_id) == 0
                       : id[0] || version_of_name(e->d_name) >= 0;
        if (found) snprintf(name, NN_RUN_NAME_LEN, "%s", e->d_name);
    }
    closedir(d);
    return found;
}

int nn_rundir_any_run(const char *dir, char name[NN_RUN_NAME_LEN])
{
    return scan_runs(dir, NULL, name);
}

int nn_rundir_find_run(const char *dir, const char *run_id, char name[NN_RUN_NAME_LEN])
{
    return run_id[0] && scan_runs(dir, run_id, name);
}

void nn_rundir_use(NnRunDir *rd, const char *name, const char *run_id)
{
    snprintf(rd->name, sizeof rd->name, "%s", name);
    snprintf(rd->path, sizeof rd->path, "%s/%s", rd->dir, name);
    snprintf(rd->run_id, sizeof rd->run_id, "%s", run_id);
}

NnStatus nn_rundir_create(NnRunDir *rd, const char *name, const char *run_id,
                          char err[NN_ERR_LEN])
{
    char version[NN_RUN_NAME_LEN];
    if (!name) {
        int *versions, count;
        if (nn_rundir_versions(rd->dir, &versions, &count, err) != NN_OK) return NN_ERR;
        nn_rundir_version_name(count ? versions[count - 1] + 1 : 0, version);
        free(versions);
        name = version;
    }
    nn_rundir_use(rd, name, run_id);
    if (rd->dry) return NN_OK;
    if (mkdir(rd->path, 0777) != 0 && errno != EEXIST)
        return nn_fail(err, "%s: cannot create the run's directory: %s", rd->path,
                       strerror(errno));
    char text[NN_RUN_ID_LEN + 1];
    snprintf(text, sizeof text, "%s\n", run_id);
    return nn_rundir_write_file(rd, "run_id", text, err);
}

void nn_rundir_describe_holder(const NnRunDir *rd)
{
    if (rd->lock_fd < 0) return;
    char host[256] = "?", stamp[32], text[NN_PATH_LEN + 512];
    gethostname(host, sizeof host - 1);
    time_t now = time(NULL);
    struct tm utc;
    gmtime_r(&now, &utc);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
    int n = snprintf(text, sizeof text, "run %s in %s, host %s, pid %ld, started %s\n",
                     rd->run_id[0] ? rd->run_id : "(starting)", rd->path[0] ? rd->path : rd->dir,
                     host, (long)getpid(), stamp);
    /* Best effort: the description only helps a refused run name the holder. */
    if (ftruncate(rd->lock_fd, 0) == 0 && pwrite(rd->lock_fd, text, (size_t)n, 0) == n) return;
}

NnStatus nn_rundir_write_file(const NnRunDir *rd, const char *name, const char *text,
                              char err[NN_ERR_LEN])
{
    char path[NN_PATH_LEN + 128];
    if (rd->dry) return NN_OK;
    snprintf(path, sizeof path, "%s/%s", rd->path, name);
    return nn_atomic_write(path, text, strlen(text), 0, err);
}
