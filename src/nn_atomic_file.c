#include "nnmpi/nn_atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

NnStatus nn_atomic_commit(const char *temp_path, const char *final_path, char err[NN_ERR_LEN])
{
    if (fsync_path(temp_path, O_RDONLY) != 0) {
        nn_fail(err, "%s: cannot sync to disk: %s", temp_path, strerror(errno));
        unlink(temp_path);
        return NN_ERR;
    }
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
