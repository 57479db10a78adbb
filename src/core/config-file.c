/* Config file loading.
 *
 * libconfig does the syntax; we walk the resulting tree and accept only keys that the settings table
 * knows, with the right type and range, so a typo is refused at start instead of silently ignored. */

#include "core/config-file.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libconfig.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/io-util.h"
#include "util/macro.h"

static void config_destroyp(config_t **c)
{
        if (*c)
                config_destroy(*c);
}

static const char *type_name(int type)
{
        switch (type) {
        case CONFIG_TYPE_GROUP:
                return "a group";
        case CONFIG_TYPE_INT:
        case CONFIG_TYPE_INT64:
                return "an integer";
        case CONFIG_TYPE_FLOAT:
                return "a float";
        case CONFIG_TYPE_STRING:
                return "a string";
        case CONFIG_TYPE_BOOL:
                return "a boolean";
        case CONFIG_TYPE_ARRAY:
                return "an array";
        case CONFIG_TYPE_LIST:
                return "a list";
        default:
                return "an unknown type";
        }
}

static int lookup_key(const char *key)
{
        for (size_t i = 0; i < _SETTING_MAX; i++)
                if (setting_table[i].key && streq(setting_table[i].key, key))
                        return (int)i;
        return -ENOENT;
}

static bool is_group_prefix(const char *prefix)
{
        size_t l = strlen(prefix);
        for (size_t i = 0; i < _SETTING_MAX; i++)
                if (setting_table[i].key && strncmp(setting_table[i].key, prefix, l) == 0 &&
                    setting_table[i].key[l] == '.')
                        return true;
        return false;
}

#define fail(name, line, ...)                                                             \
        ({                                                                                \
                int _n_ = snprintf(error, error_size, "%s:%u: ", name, (unsigned)(line)); \
                if (_n_ >= 0 && (size_t)_n_ < error_size)                                 \
                        snprintf(error + _n_, error_size - (size_t)_n_, __VA_ARGS__);     \
                -EINVAL;                                                                  \
        })

/* A config array of strings or integers becomes the comma-separated form every layer uses. */
static int join_list(const char *name, const config_setting_t *st, const char *key, const SettingInfo *info,
                     char **ret, char *error, size_t error_size)
{
        unsigned line = config_setting_source_line(st);
        int n = config_setting_length(st);
        char *out = strdup(""), *grown;

        if (!out)
                return -ENOMEM;
        for (int i = 0; i < n; i++) {
                const config_setting_t *e = config_setting_get_elem(st, (unsigned)i);
                int etype = config_setting_type(e), k;
                char num[32];
                const char *v;

                if (info->list_kind == LIST_UINT &&
                    (etype == CONFIG_TYPE_INT || etype == CONFIG_TYPE_INT64)) {
                        snprintf(num, sizeof(num), "%lld", config_setting_get_int64(e));
                        v = num;
                } else if (info->list_kind == LIST_ABSOLUTE_PATH && etype == CONFIG_TYPE_STRING)
                        v = config_setting_get_string(e);
                else {
                        free(out);
                        return fail(name, line, "%s: element %d is %s (accepts %s)", key, i + 1,
                                    type_name(etype), info->accepts);
                }
                /* [ "" ] would join to "", the empty list: a watch list that silently watches nothing. */
                if (isempty(v)) {
                        free(out);
                        return fail(name, line, "%s: element %d is an empty string (accepts %s)", key, i + 1,
                                    info->accepts);
                }
                if (strchr(v, ',')) {
                        free(out);
                        return fail(name, line, "%s: element %d contains a comma, which is not supported",
                                    key, i + 1);
                }
                k = asprintf(&grown, "%s%s%s", out, i ? "," : "", v);
                free(out);
                if (k < 0)
                        return -ENOMEM;
                out = grown;
        }
        *ret = out;
        return 0;
}

static int load_leaf(const char *name, const config_setting_t *st, const char *key, Settings *ret,
                     char *error, size_t error_size)
{
        unsigned line = config_setting_source_line(st);
        int type = config_setting_type(st), id = lookup_key(key), r;
        const SettingInfo *info;
        _cleanup_free_ char *joined = NULL;
        char buf[32];
        const char *value;

        if (id < 0)
                return fail(name, line, "unknown key \"%s\"", key);
        info = setting_info(id);

        switch (info->type) {
        case SETTING_STRING:
                if (type != CONFIG_TYPE_STRING)
                        return fail(name, line, "%s: expected a string (%s), got %s", key, info->accepts,
                                    type_name(type));
                value = config_setting_get_string(st);
                break;
        case SETTING_BOOL:
                if (type != CONFIG_TYPE_BOOL)
                        return fail(name, line, "%s: expected a boolean (true or false), got %s", key,
                                    type_name(type));
                value = config_setting_get_bool(st) ? "true" : "false";
                break;
        case SETTING_UINT: {
                long long v;
                if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
                        return fail(name, line, "%s: expected an integer (%s), got %s", key, info->accepts,
                                    type_name(type));
                v = config_setting_get_int64(st);
                if (v < 0 || (uint64_t)v < info->min || (uint64_t)v > info->max)
                        return fail(name, line, "%s: %lld is out of range (%s)", key, v, info->accepts);
                snprintf(buf, sizeof(buf), "%lld", v);
                value = buf;
                break;
        }
        case SETTING_LIST:
                if (type != CONFIG_TYPE_ARRAY && type != CONFIG_TYPE_LIST)
                        return fail(name, line, "%s: expected a list like [ ... ] (%s), got %s", key,
                                    info->accepts, type_name(type));
                r = join_list(name, st, key, info, &joined, error, error_size);
                if (r < 0)
                        return r;
                value = joined;
                break;
        default:
                return -EINVAL;
        }

        r = setting_parse(id, value, SOURCE_FILE, &ret->v[id]);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                char why[512];

                setting_describe_refusal(id, value, why, sizeof(why));
                return fail(name, line, "%s: %s", key, why);
        }
        ret->v[id].line = line;
        return 0;
}

static int load_group(const char *name, const config_setting_t *group, const char *prefix, Settings *ret,
                      char *error, size_t error_size)
{
        int n = config_setting_length(group), r;

        for (int i = 0; i < n; i++) {
                const config_setting_t *st = config_setting_get_elem(group, (unsigned)i);
                _cleanup_free_ char *key = NULL;

                if (asprintf(&key, "%s%s", prefix, config_setting_name(st)) < 0)
                        return -ENOMEM;

                if (config_setting_type(st) == CONFIG_TYPE_GROUP) {
                        _cleanup_free_ char *sub = NULL;
                        if (!is_group_prefix(key))
                                return fail(name, config_setting_source_line(st), "unknown key \"%s\"", key);
                        if (asprintf(&sub, "%s.", key) < 0)
                                return -ENOMEM;
                        r = load_group(name, st, sub, ret, error, error_size);
                } else
                        r = load_leaf(name, st, key, ret, error, error_size);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int parse_config(const char *name, config_t *c, int read_ok, Settings *ret, char *error,
                        size_t error_size)
{
        if (read_ok != CONFIG_TRUE)
                return fail(name, config_error_line(c), "%s", config_error_text(c));
        return load_group(name, config_root_setting(c), "", ret, error, error_size);
}

/* Before libconfig sees the text: things its scanner would accept but that must not reach the agent.
 * A NUL byte or a \x00 escape would silently cut a string short, and @include would read another
 * file that none of the checks on this one covered. A small lexer, so a comment may say anything. */
static int check_text(const char *name, const char *text, size_t size, char *error, size_t error_size)
{
        enum { CODE, STRING, LINE_COMMENT, BLOCK_COMMENT } state = CODE;
        unsigned line = 1;
        bool line_start = true;

        for (size_t i = 0; i < size; i++) {
                char c = text[i];

                if (c == '\0')
                        return fail(name, line, "a NUL byte is not allowed in a config file");
                if (c == '\n') {
                        line++;
                        line_start = true;
                        if (state == LINE_COMMENT)
                                state = CODE;
                        continue;
                }
                switch (state) {
                case CODE:
                        if (line_start && c == '@' && strncmp(text + i, "@include", 8) == 0)
                                return fail(name, line,
                                            "@include is not supported: put every setting in this file");
                        if (c == '"')
                                state = STRING;
                        else if (c == '#' || (c == '/' && i + 1 < size && text[i + 1] == '/'))
                                state = LINE_COMMENT;
                        else if (c == '/' && i + 1 < size && text[i + 1] == '*') {
                                state = BLOCK_COMMENT;
                                i++;
                        }
                        break;
                case STRING:
                        if (c == '"')
                                state = CODE;
                        else if (c == '\\' && i + 1 < size) {
                                if (size - i >= 4 && (text[i + 1] == 'x' || text[i + 1] == 'X') &&
                                    text[i + 2] == '0' && text[i + 3] == '0')
                                        return fail(name, line,
                                                    "a NUL byte (\\x00) is not allowed in a string");
                                if (text[i + 1] != '\n')
                                        i++;
                        }
                        break;
                case LINE_COMMENT:
                        break;
                case BLOCK_COMMENT:
                        if (c == '*' && i + 1 < size && text[i + 1] == '/') {
                                state = CODE;
                                i++;
                        }
                        break;
                }
                if (c != ' ' && c != '\t')
                        line_start = false;
        }
        return 0;
}

static int parse_text(const char *name, const char *text, size_t size, Settings *ret, char *error,
                      size_t error_size)
{
        config_t c;
        _cleanup_(config_destroyp) config_t *cp = NULL;
        int r;

        r = check_text(name, text, size, error, error_size);
        if (r < 0)
                return r;
        config_init(&c);
        cp = &c;
        return parse_config(name, &c, config_read_string(&c, text), ret, error, error_size);
}

int config_file_parse_string(const char *name, const char *text, Settings *ret, char *error,
                             size_t error_size)
{
        return parse_text(name, text, strlen(text), ret, error, error_size);
}

static const char *file_type_name(mode_t mode)
{
        if (S_ISDIR(mode))
                return "a directory";
        if (S_ISFIFO(mode))
                return "a FIFO";
        if (S_ISSOCK(mode))
                return "a socket";
        if (S_ISCHR(mode))
                return "a character device";
        if (S_ISBLK(mode))
                return "a block device";
        return "not a regular file";
}

/* Whoever can write the config can point the agent at another API, so only root and the agent's own
 * user may (sshd's StrictModes). The checks run on the opened descriptor, so a path swapped for a FIFO
 * or a symlink after a check cannot slip past it; symlinks are followed (a Kubernetes ConfigMap mounts
 * its files as symlinks) and the target is what is checked. */
static int check_file(const char *path, const struct stat *st, char *error, size_t error_size)
{
        if (!S_ISREG(st->st_mode)) {
                snprintf(error, error_size, "%s: not a regular file (it is %s)", path,
                         file_type_name(st->st_mode));
                return -EINVAL;
        }
        if (st->st_mode & (S_IWGRP | S_IWOTH)) {
                snprintf(error, error_size,
                         "%s: refusing a config file writable by group or others (fix: chmod go-w %s)", path,
                         path);
                return -EPERM;
        }
        if (st->st_uid != 0 && st->st_uid != geteuid()) {
                snprintf(error, error_size,
                         "%s: refusing a config file owned by uid %u, neither root nor the agent's uid %u "
                         "(fix: chown root %s)",
                         path, (unsigned)st->st_uid, (unsigned)geteuid(), path);
                return -EPERM;
        }
        if (st->st_size > CONFIG_FILE_MAX_SIZE) {
                snprintf(error, error_size, "%s: the file is %lld bytes, over the limit of 1 MiB (%d bytes)",
                         path, (long long)st->st_size, CONFIG_FILE_MAX_SIZE);
                return -EFBIG;
        }
        return 0;
}

int config_file_load(const char *path, bool required, Settings *ret, char *error, size_t error_size)
{
        _cleanup_close_ int fd = -EBADF;
        _cleanup_free_ char *text = NULL;
        struct stat st;
        ssize_t n;
        int r;

        /* O_NONBLOCK: opening a FIFO must not wait for a writer; check_file() then refuses it. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
        if (fd < 0) {
                r = -errno;
                if (r == -ENOENT && !required)
                        return 0;
                snprintf(error, error_size, "%s: cannot open: %s", path, strerror(-r));
                return r;
        }
        if (fstat(fd, &st) < 0) {
                r = -errno;
                snprintf(error, error_size, "%s: cannot stat: %s", path, strerror(-r));
                return r;
        }
        r = check_file(path, &st, error, error_size);
        if (r < 0)
                return r;

        /* One byte more than the limit: a file that grew since fstat() is caught too. */
        text = malloc(CONFIG_FILE_MAX_SIZE + 2);
        if (!text)
                return -ENOMEM;
        n = loop_read(fd, text, CONFIG_FILE_MAX_SIZE + 1);
        if (n < 0) {
                snprintf(error, error_size, "%s: cannot read: %s", path, strerror((int)-n));
                return (int)n;
        }
        if (n > CONFIG_FILE_MAX_SIZE) {
                snprintf(error, error_size, "%s: the file is over the limit of 1 MiB (%d bytes)", path,
                         CONFIG_FILE_MAX_SIZE);
                return -EFBIG;
        }
        text[n] = '\0';
        return parse_text(path, text, (size_t)n, ret, error, error_size);
}
