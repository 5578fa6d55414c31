#include "nnmpi/nn_resume.h"

#include <stdlib.h>
#include <string.h>

#include "nnmpi/nn_hash.h"

static void warn(const char *fmt, const char *a, const char *b)
{
    fprintf(stderr, "rank 0: warning: ");
    fprintf(stderr, fmt, a, b);
    fputc('\n', stderr);
}

void nn_resume_fixed_settings(const NnConfig *cfg, const NnDataShape *shape,
                              char out[NN_FIXED_SETTINGS_LEN])
{
    static const char *const KEYS[][2] = {
        {"model", "hidden"}, {"model", "activation"}, {"model", "loss"},
        {"train", "seed"},   {"train", "batch_size"}, {"data", "validation"}};
    size_t used = 0;
    char value[NN_PATH_LEN], err[NN_ERR_LEN];
    for (size_t i = 0; i < sizeof KEYS / sizeof KEYS[0]; i++) {
        NnStatus status = nn_config_value(cfg, KEYS[i][0], KEYS[i][1], value, sizeof value, err);
        NN_ASSERT(status == NN_OK);
        used += (size_t)snprintf(out + used, NN_FIXED_SETTINGS_LEN - used, "[%s] %s = %s\n",
                                 KEYS[i][0], KEYS[i][1], value);
    }
    int64_t train = cfg->train_samples > 0 ? cfg->train_samples : shape->train_rows;
    int64_t validation = shape->validation_rows >= 0 ? shape->validation_rows : cfg->validation;
    if (shape->validation_rows < 0) train -= cfg->validation;
    used += (size_t)snprintf(out + used, NN_FIXED_SETTINGS_LEN - used,
                             "training samples = %lld\nvalidation samples = %lld\nfeatures per "
                             "sample = %lld\nclasses = %d\n",
                             (long long)train, (long long)validation,
                             (long long)shape->features, shape->classes);
    if (shape->targets) /* regression; absent for classifiers, as before regression */
        used += (size_t)snprintf(out + used, NN_FIXED_SETTINGS_LEN - used, "targets = %d\n",
                                 shape->targets);
    const NnPreprocess *p = &shape->prep;
    char hex[17];
    nn_hash_hex(nn_preprocess_hash(p), hex);
    snprintf(out + used, NN_FIXED_SETTINGS_LEN - used,
             "feature type = %s\ninput scale = %.9g\ninput mean/std = %s\n",
             nn_feature_type_name(p->type), (double)p->scale, p->mean || p->std ? hex : "none");
}

/* Settings added to the fixed settings since checkpoints were first written, with the value
 * that changes nothing (what an older checkpoint's run had): a stored text that lacks one
 * equals ours when ours has this value. Settings not listed count as unchanged at "0". */
static const char *const NEW_DEFAULTS[][2] = {
    {"feature type", "uint8"}, {"input scale", "0.00392156886"}, {"input mean/std", "none"}};

/* Whether line (len bytes, key before " = " key_len bytes) holds a new setting's default:
 * NEW_DEFAULTS, or 0 for any other. */
static int is_new_default(const char *line, size_t key_len, size_t len)
{
    const char *value = line + key_len + 2;
    size_t value_len = key_len + 2 < len ? len - key_len - 2 : 0;
    for (size_t i = 0; i < sizeof NEW_DEFAULTS / sizeof NEW_DEFAULTS[0]; i++)
        if (key_len - 1 == strlen(NEW_DEFAULTS[i][0]) &&
            strncmp(line, NEW_DEFAULTS[i][0], key_len - 1) == 0)
            return value_len == strlen(NEW_DEFAULTS[i][1]) &&
                   strncmp(value, NEW_DEFAULTS[i][1], value_len) == 0;
    return value_len == 1 && value[0] == '0';
}

/* ours without the lines whose key stored lacks and whose value is the default: settings
 * added since an older checkpoint was written (such as [data] validation or the feature
 * type), at the value that changes nothing. */
static void drop_new_defaults(const char *stored, const char *ours, char *out, size_t size)
{
    size_t used = 0;
    out[0] = '\0';
    for (const char *line = ours; *line;) {
        size_t len = strcspn(line, "\n"), key = strcspn(line, "=");
        int found = 0;
        for (const char *s = stored; *s && !found; s += strcspn(s, "\n"), s += *s == '\n')
            found = key < len && strncmp(s, line, key + 1) == 0;
        int unchanged = key < len && key > 0 && is_new_default(line, key, len);
        if ((found || !unchanged) && used + len + 2 < size) {
            memcpy(out + used, line, len);
            used += len;
            out[used++] = '\n';
            out[used] = '\0';
        }
        line += len + (line[len] == '\n');
    }
}

NnStatus nn_resume_compare(const char *path, const char *stored, const char *ours_in,
                           char err[NN_ERR_LEN])
{
    char ours[NN_FIXED_SETTINGS_LEN];
    drop_new_defaults(stored, ours_in, ours, sizeof ours);
    if (strcmp(stored, ours) == 0) return NN_OK;
    const char *a = stored, *b = ours;
    for (;;) {
        size_t la = strcspn(a, "\n"), lb = strcspn(b, "\n");
        size_t key_a = strcspn(a, "="), key_b = strcspn(b, "=");
        if (la != lb || strncmp(a, b, la) != 0) {
            if (key_a < la && key_a == key_b && strncmp(a, b, key_a) == 0)
                return nn_refuse(err,
                                 "%s: %.*s is%.*s in the checkpoint but%.*s in this run; it "
                                 "cannot change on resume",
                                 path, (int)key_a - 1, a, (int)(la - key_a - 1), a + key_a + 1,
                                 (int)(lb - key_b - 1), b + key_b + 1);
            return nn_refuse(err, "%s: the checkpoint has '%.*s' where this run has '%.*s'",
                             path, (int)la, a, (int)lb, b);
        }
        if (a[la] == '\0' || b[lb] == '\0') break;
        a += la + 1;
        b += lb + 1;
    }
    return nn_refuse(err, "%s: the checkpoint's fixed settings differ from this run's", path);
}

/* Loads into ck the newest valid checkpoint in dir that belongs to run_id ("" : to any
 * run); *found 0 when there is none. Damaged files and other runs' are skipped with a
 * warning. */
static NnStatus newest_valid(const char *dir, const char *run_id, NnCheckpoint *ck, char *path,
                             size_t path_size, int *found, char err[NN_ERR_LEN])
{
    *found = 0;
    int64_t *steps;
    int count;
    if (nn_checkpoint_list(dir, &steps, &count, err) != NN_OK) return NN_ERR;
    for (int i = count - 1; i >= 0 && !*found; i--) {
        char why[NN_ERR_LEN];
        nn_checkpoint_path(dir, steps[i], path, path_size);
        if (nn_checkpoint_load(path, ck, why) != NN_OK) {
            warn("skipping %s%s", why, "");
        } else if (run_id[0] && strcmp(ck->state.run_id, run_id) != 0) {
            warn("skipping %s: it belongs to another run (%s)", path, ck->state.run_id);
            nn_checkpoint_free(ck);
        } else {
            *found = 1;
        }
    }
    free(steps);
    return NN_OK;
}

/* Adds the valid checkpoints of run_id in dir (a version_N) to own, for retention. */
static NnStatus collect_own(const char *dir, const char *run_id, NnCheckpointSet *own,
                            char err[NN_ERR_LEN])
{
    int64_t *steps;
    int count;
    if (nn_checkpoint_list(dir, &steps, &count, err) != NN_OK) return NN_ERR;
    NnStatus status = NN_OK;
    for (int i = 0; i < count && status == NN_OK; i++) {
        char path[NN_PATH_LEN + 64], why[NN_ERR_LEN];
        NnCheckpoint ck;
        nn_checkpoint_path(dir, steps[i], path, sizeof path);
        if (nn_checkpoint_load(path, &ck, why) != NN_OK) continue;
        if (strcmp(ck.state.run_id, run_id) == 0) status = nn_checkpoint_set_add(own, steps[i], err);
        nn_checkpoint_free(&ck);
    }
    free(steps);
    return status;
}

/* A new run: a new id and, with a directory, DIR/name (NULL: a new version_N). */
static NnStatus start_fresh(NnRunDir *rd, const char *name, char err[NN_ERR_LEN])
{
    char id[NN_RUN_ID_LEN];
    nn_rundir_new_id(id);
    if (!rd->dir[0]) {
        snprintf(rd->run_id, sizeof rd->run_id, "%s", id);
        return NN_OK;
    }
    return nn_rundir_create(rd, name, id, err);
}

/* Refuses a fresh start in a directory that holds a run. */
static NnStatus check_unused(const NnRunDir *rd, char err[NN_ERR_LEN])
{
    char name[NN_RUN_NAME_LEN], what[NN_PATH_LEN + 96];
    if (nn_rundir_any_run(rd->dir, name))
        snprintf(what, sizeof what, "another run (%s/%s)", rd->dir, name);
    else if (nn_rundir_has_loose_checkpoints(rd->dir))
        snprintf(what, sizeof what, "checkpoints of an earlier run");
    else
        return NN_OK;
    return nn_refuse(err,
                     "%s holds %s; a fresh start there is refused. Continue it with --resume "
                     "auto, start a new run beside it with --new-run, or choose another "
                     "[run] dir",
                     rd->dir, what);
}

/* Resumes the run in DIR/name from its newest valid checkpoint when it has one whose fixed
 * settings match (*refusal gets the difference when they do not). */
static NnStatus try_run(const char *fixed, NnRunDir *rd, const char *name, NnStart *out,
                        char *refusal, char err[NN_ERR_LEN])
{
    char dir[sizeof rd->path], id[NN_RUN_ID_LEN], why[NN_ERR_LEN];
    snprintf(dir, sizeof dir, "%s/%s", rd->dir, name);
    nn_rundir_read_id(rd->dir, name, id);
    int found;
    if (newest_valid(dir, id, &out->ck, out->from, sizeof out->from, &found, err) != NN_OK)
        return NN_ERR;
    if (!found) return NN_OK;
    if (nn_resume_compare(out->from, out->ck.fixed_settings, fixed, why) != NN_OK) {
        warn("not resuming %s: %s", dir, why);
        if (!refusal[0]) memcpy(refusal, why, NN_ERR_LEN);
        nn_checkpoint_free(&out->ck);
        return NN_OK;
    }
    out->resumed = 1;
    nn_rundir_use(rd, name, out->ck.state.run_id[0] ? out->ck.state.run_id : id);
    return collect_own(rd->path, rd->run_id, &out->own, err);
}

/* --resume auto: the named run, or the newest version_N whose fixed settings match, or
 * (failing those) the checkpoints an older nn-mpi left loose in the directory; with no
 * valid checkpoint anywhere, the newest run (or the named one) starts again in place. */
static NnStatus choose_auto(const char *fixed, const char *run_name, NnRunDir *rd,
                            NnRunLog *log, NnStart *out, char err[NN_ERR_LEN])
{
    char refusal[NN_ERR_LEN] = "";
    NnStatus status = NN_OK;
    if (run_name) {
        status = try_run(fixed, rd, run_name, out, refusal, err);
    } else {
        int *versions, count;
        if (nn_rundir_versions(rd->dir, &versions, &count, err) != NN_OK) return NN_ERR;
        for (int i = count - 1; i >= 0 && status == NN_OK && !out->resumed; i--) {
            char name[NN_RUN_NAME_LEN];
            nn_rundir_version_name(versions[i], name);
            status = try_run(fixed, rd, name, out, refusal, err);
        }
        free(versions);
        int found = 0;
        char why[NN_ERR_LEN];
        if (status == NN_OK && !out->resumed && nn_rundir_has_loose_checkpoints(rd->dir))
            status = newest_valid(rd->dir, "", &out->ck, out->from, sizeof out->from, &found,
                                  err);
        if (found && nn_resume_compare(out->from, out->ck.fixed_settings, fixed, why) != NN_OK) {
            warn("not resuming %s: %s", out->from, why);
            if (!refusal[0]) memcpy(refusal, why, sizeof refusal);
            nn_checkpoint_free(&out->ck);
        } else if (found) { /* an older nn-mpi's run: continue it in a version_N of its own */
            char id[NN_RUN_ID_LEN];
            nn_rundir_new_id(id);
            out->resumed = 1;
            status = nn_rundir_create(rd, NULL, id, err);
        }
    }
    if (status != NN_OK || out->resumed) return status;
    if (refusal[0])
        return nn_refuse(err,
                         "%s; no run in %s can continue with this config: start a new run "
                         "beside them with --new-run, or choose another [run] dir",
                         refusal, rd->dir);
    /* A run that ended before its first checkpoint (the named one, or else the newest
     * version_N) starts again under its name and id. */
    char id[NN_RUN_ID_LEN] = "", newest[NN_RUN_NAME_LEN];
    const char *again = run_name;
    if (!again) {
        int *versions, count;
        if (nn_rundir_versions(rd->dir, &versions, &count, err) != NN_OK) return NN_ERR;
        if (count) nn_rundir_version_name(versions[count - 1], newest);
        if (count) again = newest;
        free(versions);
    }
    if (again) nn_rundir_read_id(rd->dir, again, id);
    status = id[0] ? nn_rundir_create(rd, again, id, err) : start_fresh(rd, run_name, err);
    if (status == NN_OK)
        nn_runlog_note(log, "no valid checkpoint in %s: starting run %s in %s",
                       run_name ? rd->path : rd->dir, rd->run_id, rd->path);
    return status;
}

/* --resume FILE: that checkpoint's run, in DIR/run_name or in the directory's
 * subdirectory that holds its run, else in a new version_N. */
static NnStatus choose_file(const char *path, const char *fixed, const char *run_name,
                            NnRunDir *rd, NnStart *out, char err[NN_ERR_LEN])
{
    snprintf(out->from, sizeof out->from, "%s", path);
    if (nn_checkpoint_load(path, &out->ck, err) != NN_OK) return NN_ERR;
    out->resumed = 1;
    NnStatus status = nn_resume_compare(path, out->ck.fixed_settings, fixed, err);
    if (status != NN_OK) return status;
    const char *id = out->ck.state.run_id;
    char new_id[NN_RUN_ID_LEN];
    if (!id[0]) { /* an older nn-mpi's checkpoint: the run gets an id now */
        nn_rundir_new_id(new_id);
        id = new_id;
    }
    if (!rd->dir[0]) {
        snprintf(rd->run_id, sizeof rd->run_id, "%s", id);
        return NN_OK;
    }
    char name[NN_RUN_NAME_LEN], held[NN_RUN_ID_LEN] = "";
    if (run_name) nn_rundir_read_id(rd->dir, run_name, held);
    if (held[0] && strcmp(held, id) != 0)
        return nn_refuse(err, "%s/%s holds run %s, not the checkpoint's run %s: name another "
                              "run",
                         rd->dir, run_name, held, id);
    if (!run_name && !nn_rundir_find_run(rd->dir, id, name))
        return nn_rundir_create(rd, NULL, id, err);
    if (!held[0] && run_name) return nn_rundir_create(rd, run_name, id, err);
    nn_rundir_use(rd, run_name ? run_name : name, id);
    return collect_own(rd->path, rd->run_id, &out->own, err);
}

NnStatus nn_resume_choose(const char *how, int new_run, const char *run_name,
                          const char *fixed_settings, NnRunDir *rd, NnRunLog *log,
                          NnStart *out, char err[NN_ERR_LEN])
{
    memset(out, 0, sizeof *out);
    NnStatus status;
    char id[NN_RUN_ID_LEN] = "";
    if (run_name && !rd->dir[0])
        return nn_refuse(err, "--run-name %s needs a [run] dir", run_name);
    if (run_name) nn_rundir_read_id(rd->dir, run_name, id);
    if (!how && id[0]) {
        status = nn_refuse(err, "%s/%s holds run %s; a fresh start there is refused. Continue "
                                "it with --resume auto, or name another run",
                           rd->dir, run_name, id);
    } else if (!how) {
        status = rd->dir[0] && !new_run && !run_name ? check_unused(rd, err) : NN_OK;
        if (status == NN_OK) status = start_fresh(rd, run_name, err);
    } else if (strcmp(how, "auto") == 0) {
        status = rd->dir[0] ? choose_auto(fixed_settings, run_name, rd, log, out, err)
                            : nn_refuse(err, "--resume auto needs a [run] dir");
    } else {
        status = choose_file(how, fixed_settings, run_name, rd, out, err);
    }
    if (status == NN_OK && out->resumed) {
        snprintf(out->ck.state.run_id, sizeof out->ck.state.run_id, "%s", rd->run_id);
        if (rd->path[0] && !rd->dry) {
            int removed = nn_checkpoint_remove_temps(rd->path);
            if (removed)
                fprintf(stderr, "rank 0: warning: removed %d unfinished checkpoint file(s) "
                                "of an ended process from %s\n", removed, rd->path);
        }
    }
    if (status != NN_OK) nn_resume_free(out);
    return status;
}

void nn_resume_free(NnStart *start)
{
    if (start->resumed) nn_checkpoint_free(&start->ck);
    nn_checkpoint_set_free(&start->own);
    start->resumed = 0;
}
