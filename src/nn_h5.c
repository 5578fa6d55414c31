#include "nnmpi/nn_h5.h"

#include <string.h>

#include "nnmpi/nn_atomic_file.h"

/* The in-memory file grows by this much at a time. */
#define MEMORY_FILE_INCREMENT ((size_t)1 << 20)

void nn_h5_silence(void)
{
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

void nn_h5_describe(hid_t obj, char *out, size_t size)
{
    char file[NN_ERR_LEN / 2] = "?", path[NN_ERR_LEN / 4] = "?";
    if (H5Fget_name(obj, file, sizeof file) < 0) strcpy(file, "?");
    if (H5Iget_name(obj, path, sizeof path) < 0) strcpy(path, "?");
    snprintf(out, size, "%s: %s", file, path);
}

hid_t nn_h5_create_memory_file(const char *path, char err[NN_ERR_LEN])
{
    /* HDF5 first tries to open an existing file of the name (and would read it whole), so
     * the name is one that no file has: "PATH (in memory)". It shows in messages. */
    char name[4200];
    snprintf(name, sizeof name, "%s (in memory)", path);
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), file = -1;
    /* STRONG: closing the file closes whatever a failed writer left open in it. */
    if (fapl >= 0 && H5Pset_fapl_core(fapl, MEMORY_FILE_INCREMENT, 0) >= 0 &&
        H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0)
        file = H5Fcreate(name, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    if (fapl >= 0) H5Pclose(fapl);
    if (file < 0) nn_fail(err, "%s: cannot create the HDF5 file in memory", path);
    return file;
}

NnStatus nn_h5_save_memory_file(hid_t file, const char *path, int stall_halfway,
                                char err[NN_ERR_LEN])
{
    NnStatus status = NN_ERR;
    void *image = NULL;
    ssize_t size = H5Fflush(file, H5F_SCOPE_GLOBAL) < 0 ? -1 : H5Fget_file_image(file, NULL, 0);
    if (size < 0) {
        nn_fail(err, "%s: cannot finish the HDF5 file in memory", path);
        goto done;
    }
    image = malloc(size ? (size_t)size : 1);
    if (!image) {
        nn_fail(err, "%s: out of memory for the file's %lld bytes", path, (long long)size);
        goto done;
    }
    if (H5Fget_file_image(file, image, (size_t)size) != size) {
        nn_fail(err, "%s: cannot copy the HDF5 file out of memory", path);
        goto done;
    }
    status = NN_OK;
done:
    if (H5Fclose(file) < 0 && status == NN_OK)
        status = nn_fail(err, "%s: cannot close the HDF5 file in memory", path);
    if (status == NN_OK) status = nn_atomic_write(path, image, (size_t)size, stall_halfway, err);
    free(image);
    return status;
}

hid_t nn_h5_open_image(const void *image, size_t size, const char *name, char err[NN_ERR_LEN])
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS), file = -1;
    if (fapl >= 0 && H5Pset_fapl_core(fapl, MEMORY_FILE_INCREMENT, 0) >= 0 &&
        H5Pset_file_image(fapl, (void *)image, size) >= 0)
        file = H5Fopen(name, H5F_ACC_RDONLY, fapl);
    if (fapl >= 0) H5Pclose(fapl);
    if (file < 0) nn_fail(err, "%s: not an HDF5 file, or damaged", name);
    return file;
}

/* Fails with "FILE: OBJECT: attribute NAME: what". */
static NnStatus attr_fail(hid_t obj, const char *name, const char *what, char err[NN_ERR_LEN])
{
    char where[NN_ERR_LEN];
    nn_h5_describe(obj, where, sizeof where);
    return nn_fail(err, "%s: attribute '%s': %s", where, name, what);
}

static NnStatus attr_write(hid_t obj, const char *name, hid_t type, int count, const void *data,
                           char err[NN_ERR_LEN])
{
    hsize_t dims[1] = {(hsize_t)count};
    hid_t space = count < 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, NULL);
    hid_t attr = -1;
    NnStatus status = NN_ERR;
    if (space < 0) goto done;
    if (H5Aexists(obj, name) > 0 && H5Adelete(obj, name) < 0) goto done;
    attr = H5Acreate2(obj, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    if (attr < 0 || H5Awrite(attr, type, data) < 0) goto done;
    status = NN_OK;
done:
    if (attr >= 0) H5Aclose(attr);
    if (space >= 0) H5Sclose(space);
    return status == NN_OK ? NN_OK : attr_fail(obj, name, "cannot write", err);
}

NnStatus nn_h5_attr_write_i64(hid_t obj, const char *name, int64_t value, char err[NN_ERR_LEN])
{
    return attr_write(obj, name, H5T_NATIVE_INT64, -1, &value, err);
}

NnStatus nn_h5_attr_write_f64(hid_t obj, const char *name, double value, char err[NN_ERR_LEN])
{
    return attr_write(obj, name, H5T_NATIVE_DOUBLE, -1, &value, err);
}

NnStatus nn_h5_attr_write_i64s(hid_t obj, const char *name, const int64_t *values, int count,
                               char err[NN_ERR_LEN])
{
    return attr_write(obj, name, H5T_NATIVE_INT64, count, values, err);
}

NnStatus nn_h5_attr_write_text(hid_t obj, const char *name, const char *text,
                               char err[NN_ERR_LEN])
{
    hid_t type = H5Tcopy(H5T_C_S1);
    if (type < 0 || H5Tset_size(type, strlen(text) + 1) < 0) {
        if (type >= 0) H5Tclose(type);
        return attr_fail(obj, name, "cannot create string type", err);
    }
    NnStatus status = attr_write(obj, name, type, -1, text, err);
    H5Tclose(type);
    return status;
}

/* Opens attribute name and checks it holds `expect` elements of class cls (-1: any count). */
static hid_t attr_open(hid_t obj, const char *name, H5T_class_t cls, hssize_t expect,
                       hssize_t *count, char err[NN_ERR_LEN])
{
    if (H5Aexists(obj, name) <= 0) {
        attr_fail(obj, name, "missing", err);
        return -1;
    }
    hid_t attr = H5Aopen(obj, name, H5P_DEFAULT);
    if (attr < 0) {
        attr_fail(obj, name, "cannot open", err);
        return -1;
    }
    hid_t type = H5Aget_type(attr), space = H5Aget_space(attr);
    hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    int ok = type >= 0 && H5Tget_class(type) == cls && n >= 0 && (expect < 0 || n == expect);
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (!ok) {
        H5Aclose(attr);
        attr_fail(obj, name,
                  cls == H5T_INTEGER ? "expected an integer"
                  : cls == H5T_FLOAT ? "expected a number"
                                     : "expected a string",
                  err);
        return -1;
    }
    if (count) *count = n;
    return attr;
}

static NnStatus attr_read(hid_t obj, const char *name, H5T_class_t cls, hid_t mem_type,
                          void *value, char err[NN_ERR_LEN])
{
    hid_t attr = attr_open(obj, name, cls, 1, NULL, err);
    if (attr < 0) return NN_ERR;
    herr_t r = H5Aread(attr, mem_type, value);
    H5Aclose(attr);
    return r < 0 ? attr_fail(obj, name, "cannot read", err) : NN_OK;
}

NnStatus nn_h5_attr_read_i64(hid_t obj, const char *name, int64_t *value, char err[NN_ERR_LEN])
{
    return attr_read(obj, name, H5T_INTEGER, H5T_NATIVE_INT64, value, err);
}

NnStatus nn_h5_attr_read_f64(hid_t obj, const char *name, double *value, char err[NN_ERR_LEN])
{
    return attr_read(obj, name, H5T_FLOAT, H5T_NATIVE_DOUBLE, value, err);
}

NnStatus nn_h5_attr_read_i64s(hid_t obj, const char *name, int64_t *values, int max, int *count,
                              char err[NN_ERR_LEN])
{
    hssize_t n;
    hid_t attr = attr_open(obj, name, H5T_INTEGER, -1, &n, err);
    if (attr < 0) return NN_ERR;
    if (n > max) {
        H5Aclose(attr);
        return attr_fail(obj, name, "too many entries", err);
    }
    herr_t r = H5Aread(attr, H5T_NATIVE_INT64, values);
    H5Aclose(attr);
    if (r < 0) return attr_fail(obj, name, "cannot read", err);
    *count = (int)n;
    return NN_OK;
}

NnStatus nn_h5_attr_read_text(hid_t obj, const char *name, char **text, char err[NN_ERR_LEN])
{
    *text = NULL;
    hid_t attr = attr_open(obj, name, H5T_STRING, 1, NULL, err);
    if (attr < 0) return NN_ERR;
    hid_t type = H5Aget_type(attr);
    NnStatus status = NN_ERR;
    if (H5Tis_variable_str(type) != 0) {
        attr_fail(obj, name, "expected a fixed-length string", err);
        goto done;
    }
    size_t size = H5Tget_size(type);
    *text = calloc(size + 1, 1);
    if (!*text || H5Aread(attr, type, *text) < 0) {
        attr_fail(obj, name, "cannot read", err);
        goto done;
    }
    status = NN_OK;
done:
    H5Tclose(type);
    H5Aclose(attr);
    if (status != NN_OK) {
        free(*text);
        *text = NULL;
    }
    return status;
}

int nn_h5_exists(hid_t loc, const char *path)
{
    char prefix[512];
    size_t len = strlen(path);
    if (len >= sizeof prefix) return 0;
    for (size_t i = 1; i <= len; i++) {
        if (path[i] != '/' && path[i] != '\0') continue;
        memcpy(prefix, path, i);
        prefix[i] = '\0';
        if (H5Lexists(loc, prefix, H5P_DEFAULT) <= 0) return 0;
    }
    return 1;
}

NnStatus nn_h5_write_f32(hid_t loc, const char *name, int rank, const hsize_t *dims,
                         const float *data, char err[NN_ERR_LEN])
{
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dset = space < 0 ? -1
                           : H5Dcreate2(loc, name, H5T_IEEE_F32LE, space, H5P_DEFAULT,
                                        H5P_DEFAULT, H5P_DEFAULT);
    NnStatus status = NN_OK;
    if (dset < 0 || H5Dwrite(dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
        char where[NN_ERR_LEN];
        nn_h5_describe(loc, where, sizeof where);
        status = nn_fail(err, "%s: cannot write dataset '%s'", where, name);
    }
    if (dset >= 0) H5Dclose(dset);
    if (space >= 0) H5Sclose(space);
    return status;
}

NnStatus nn_h5_read_f32(hid_t loc, const char *name, int rank, const hsize_t *dims, float *data,
                        char err[NN_ERR_LEN])
{
    char where[NN_ERR_LEN];
    nn_h5_describe(loc, where, sizeof where);
    if (!nn_h5_exists(loc, name))
        return nn_fail(err, "%s: dataset '%s' is missing", where, name);
    hid_t dset = H5Dopen2(loc, name, H5P_DEFAULT);
    hid_t space = dset < 0 ? -1 : H5Dget_space(dset);
    hid_t type = dset < 0 ? -1 : H5Dget_type(dset);
    NnStatus status = NN_ERR;
    hsize_t have[H5S_MAX_RANK];
    int have_rank = space < 0 ? -1 : H5Sget_simple_extent_dims(space, have, NULL);
    if (have_rank < 0 || type < 0) {
        nn_fail(err, "%s: cannot open dataset '%s'", where, name);
        goto done;
    }
    int same = have_rank == rank && H5Tget_class(type) == H5T_FLOAT;
    for (int d = 0; same && d < rank; d++) same = have[d] == dims[d];
    if (!same) {
        nn_fail(err, "%s: dataset '%s' has rank %d shape %llu x %llu, expected float %llu x %llu",
                where, name, have_rank, have_rank > 0 ? (unsigned long long)have[0] : 0ULL,
                have_rank > 1 ? (unsigned long long)have[1] : 1ULL, (unsigned long long)dims[0],
                rank > 1 ? (unsigned long long)dims[1] : 1ULL);
        goto done;
    }
    if (H5Dread(dset, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
        nn_fail(err, "%s: cannot read dataset '%s'", where, name);
        goto done;
    }
    status = NN_OK;
done:
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
    if (dset >= 0) H5Dclose(dset);
    return status;
}

hid_t nn_h5_open_file(const char *path, const char *what, char err[NN_ERR_LEN])
{
    if (nn_file_check_regular(path, what, err) != NN_OK) return -1;
    hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0) nn_fail(err, "%s: not an HDF5 file, or damaged", path);
    return file;
}
