#include "nnmpi/nn_atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nnmpi/nn_fault.h"

void nn_atomic_temp_name(const char *final_path, char *temp_path, size_t size)
{
    snprintf(temp_path, size, "%s.tmp.%ld", final_path, (long)getpid());
}

static int fsync_path(const char *path, int flags)
{
    int fd = open(path, flags);
    if (fd < 0) return -1;
    int r = fsync(fd);
    int saved = errno;
    close(fd);
    errno = saved;
    return r;
}

/* Renames temp_path (already synced) to final_path and syncs the directory; removes
 * temp_path if the rename fails. */
static NnStatus rename_into_place(const char *temp_path, const char *final_path,
                                  char err[NN_ERR_LEN])
{
    if (rename(temp_path, final_path) != 0) {
        nn_fail(err, "cannot rename %s to %s: %s", temp_path, final_path, strerror(errno));
        unlink(temp_path);
        return NN_ERR;
    }
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", final_path);
    const char *dir = dirname(copy);
    if (fsync_path(dir, O_RDONLY | O_DIRECTORY) != 0)
        return nn_fail(err, "%s: cannot sync directory to disk: %s", dir, strerror(errno));
    return NN_OK;
}

/* write() until all size bytes are out or write() fails (errno set). Test faults: stops
 * with ENOSPC, or stalls for good, after `stop_at` bytes (size: no fault). */
static int write_all(int fd, const unsigned char *data, size_t size, size_t stop_at,
                     int stall)
{
    size_t done = 0;
    while (done < size) {
        if (done >= stop_at) {
            if (stall)
                for (;;) pause();
            errno = ENOSPC;
            return -1;
        }
        size_t chunk = size - done < (1u << 30) ? size - done : (1u << 30);
        if (chunk > stop_at - done) chunk = stop_at - done;
        ssize_t n = write(fd, data + done, chunk);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) return -1;
        if (n == 0) { /* no progress and no error: do not spin */
            errno = EIO;
            return -1;
        }
        done += (size_t)n;
    }
    return 0;
}

NnStatus nn_atomic_write(const char *final_path, const void *data, size_t size,
                         int stall_halfway, char err[NN_ERR_LEN])
{
    char temp[4096];
    nn_atomic_temp_name(final_path, temp, sizeof temp);
    int fd = open(temp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    if (fd < 0) return nn_fail(err, "%s: cannot create: %s", temp, strerror(errno));
    int full_disk = nn_fault_hit(NN_FAULT_WRITE_ENOSPC, NULL);
    size_t stop_at = full_disk || stall_halfway ? size / 2 : size;
    const char *what = NULL;
    if (write_all(fd, data, size, stop_at, stall_halfway) != 0)
        what = "cannot write";
    else if (fsync(fd) != 0)
        what = "cannot sync to disk";
    int saved = errno;
    if (close(fd) != 0 && !what) { /* some file systems report write errors only here */
        what = "cannot write";
        saved = errno;
    }
    if (what) {
        nn_fail(err, "%s: %s: %s", temp, what, strerror(saved));
        unlink(temp);
        return NN_ERR;
    }
    return rename_into_place(temp, final_path, err);
}

NnStatus nn_atomic_commit(const char *temp_path, const char *final_path, char err[NN_ERR_LEN])
{
    if (fsync_path(temp_path, O_RDONLY) != 0) {
        nn_fail(err, "%s: cannot sync to disk: %s", temp_path, strerror(errno));
        unlink(temp_path);
        return NN_ERR;
    }
    return rename_into_place(temp_path, final_path, err);
}

NnStatus nn_make_dirs(const char *path, char err[NN_ERR_LEN])
{
    char copy[4096];
    size_t len = strlen(path);
    if (len == 0 || len >= sizeof copy) return nn_fail(err, "bad directory name '%s'", path);
    memcpy(copy, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (copy[i] != '/' && copy[i] != '\0') continue;
        char saved = copy[i];
        copy[i] = '\0';
        if (mkdir(copy, 0777) != 0 && errno != EEXIST)
            return nn_fail(err, "%s: cannot create directory: %s", copy, strerror(errno));
        copy[i] = saved;
    }
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
        return nn_fail(err, "%s: not a directory", path);
    return NN_OK;
}

NnStatus nn_file_check_regular(const char *path, const char *what, char err[NN_ERR_LEN])
{
    struct stat st;
    const char *space = what ? " " : "";
    if (!what) what = "";
    if (stat(path, &st) != 0 || access(path, R_OK) != 0)
        return nn_fail(err, "%s: cannot open%s%s: %s", path, space, what, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return nn_fail(err, "%s: cannot open%s%s: not a regular file", path, space, what);
    return NN_OK;
}
