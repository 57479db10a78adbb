#pragma once
/* The agent's settings: one table drives flags, environment bindings, config-file keys, --help and
 * --dry-run. Values are resolved in layers: flag > environment > config file > profile default. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "util/strv.h"

/* Defaults the table's entries are made of. Code that runs without a settings layer (a ShipperConfig or
 * SensorsConfig initialised for a test or a tool) takes its defaults from here too, never its own. */
#define SETTING_DEFAULT_HEARTBEAT_INTERVAL 30      /* seconds */
#define SETTING_DEFAULT_ENROLL_TIMEOUT     300     /* seconds */
#define SETTING_DEFAULT_RING_BUFFER_SIZE   4194304 /* bytes */
#define SETTING_DEFAULT_BATCH_MAX_EVENTS   1000
#define SETTING_DEFAULT_BATCH_MAX_BYTES    1048576   /* bytes */
#define SETTING_DEFAULT_BATCH_MAX_AGE_MS   1000      /* milliseconds */
#define SETTING_DEFAULT_QUEUE_MAX_BYTES    16777216  /* bytes */
#define SETTING_DEFAULT_SPOOL_MAX_BYTES    268435456 /* bytes */
#define SETTING_DEFAULT_CONTROL_SOCKET     "/run/linuxguard/control.sock"
/* The file sensor's watched prefixes, as array elements; the table joins them into its list value. */
#define SETTING_DEFAULT_FILE_PREFIX_LIST "/etc/", "/root/.ssh/", "/var/run/secrets/", "/run/secrets/"

typedef enum SettingId {
        SETTING_CONFIG,
        SETTING_EPHEMERAL,
        SETTING_ENROLL_TOKEN,
        SETTING_ENROLL_TOKEN_FILE,
        SETTING_ENROLL_TOKEN_TAG,
        SETTING_ENROLL_TIMEOUT,
        SETTING_TENANT_ID,
        SETTING_WORKLOAD_ID,
        SETTING_NODE_ID,
        SETTING_POD_UID,
        SETTING_TLS_CACHE,
        SETTING_LOADER_EMBEDDED,
        SETTING_API_URL,
        SETTING_CA_FILE,
        SETTING_OUTPUT,
        SETTING_OUTPUT_FORMAT,
        SETTING_LOG_LEVEL,
        SETTING_LOG_FORMAT,
        SETTING_HEARTBEAT_INTERVAL,
        SETTING_SENSOR_PROCESS,
        SETTING_SENSOR_FILE,
        SETTING_SENSOR_NETWORK,
        SETTING_SENSOR_KERNEL,
        SETTING_RING_BUFFER_SIZE,
        SETTING_FILE_PREFIXES,
        SETTING_PID_ALLOW,
        SETTING_PID_DENY,
        SETTING_CGROUP_ALLOW,
        SETTING_CGROUP_DENY,
        SETTING_BATCH_MAX_EVENTS,
        SETTING_BATCH_MAX_BYTES,
        SETTING_BATCH_MAX_AGE_MS,
        SETTING_QUEUE_MAX_BYTES,
        SETTING_SPOOL_MAX_BYTES,
        SETTING_CONTROL_SOCKET,
        SETTING_METRICS_LISTEN,
        _SETTING_MAX,
} SettingId;

typedef enum SettingType {
        SETTING_STRING,
        SETTING_BOOL,
        SETTING_UINT,
        SETTING_LIST, /* a config-file array; held as one comma-separated string */
} SettingType;

typedef enum ListKind {
        LIST_ABSOLUTE_PATH, /* strings starting with '/', without ',' */
        LIST_UINT,          /* integers from min to max */
} ListKind;

typedef enum SettingSource {
        SOURCE_UNSET,   /* nothing set it and it has no default */
        SOURCE_DEFAULT, /* built-in or profile default */
        SOURCE_FILE,
        SOURCE_ENV,
        SOURCE_FLAG,
} SettingSource;

typedef struct SettingInfo {
        const char *name; /* canonical name, printed by --dry-run */
        const char *flag; /* long option without dashes, or NULL */
        const char *env;  /* environment binding, or NULL */
        const char *key;  /* config-file key (dotted path for groups), or NULL */
        SettingType type;
        bool secret; /* redacted everywhere */
        bool flag_takes_value;
        bool flag_value_optional; /* a SETTING_BOOL flag that also takes =BOOL */
        uint64_t min, max;        /* SETTING_UINT range, and the range of a LIST_UINT element */
        ListKind list_kind;       /* SETTING_LIST elements */
        unsigned max_items;       /* SETTING_LIST: at most this many elements */
        unsigned max_len;         /* SETTING_LIST of paths: bytes per element */
        const char *accepts;      /* what a valid value looks like, for errors and --help */
        const char *help;
        const char *def; /* the default, as a value setting_parse() accepts; NULL: none (or the profile's) */
        const char *def_doc; /* how --help and the docs word the default when not simply `def` */
        /* Validates a string value; returns 0 or -EINVAL. NULL: any non-empty string. */
        int (*validate)(const char *value);
        /* Why a value validate() refused is wrong, naming the fix, or NULL for the generic message. The
         * value itself is not repeated: it may hold what must not be logged (a password in a URL). */
        const char *(*explain)(const char *value);
} SettingInfo;

typedef struct SettingValue {
        SettingSource source;
        char *str; /* owned; a secret setting's is a secure buffer (util/secure-mem.h) */
        bool b;
        uint64_t u;
        unsigned line; /* config-file line that set it, for messages */
} SettingValue;

typedef struct Settings {
        SettingValue v[_SETTING_MAX];
} Settings;

extern const SettingInfo setting_table[_SETTING_MAX];

const SettingInfo *setting_info(SettingId id);
int setting_lookup_flag(const char *flag); /* SettingId or -ENOENT */
const char *setting_source_to_string(SettingSource s);

/* Parses `value` for setting `id` into `ret` with `source`. On a bad value returns -EINVAL. */
int setting_parse(SettingId id, const char *value, SettingSource source, SettingValue *ret);
/* What is wrong with `value`, a value setting_parse() refused for `id`, without the caller's prefix:
 * explain()'s answer, or 'invalid value "VALUE" (accepts ...)', without the value for a secret. */
void setting_describe_refusal(SettingId id, const char *value, char *buf, size_t size);
int parse_boolean(const char *s);
/* Splits a SETTING_LIST value ("a,b,c"; "" is the empty list) into a NULL-terminated array. */
int setting_list_split(const char *value, char ***ret, size_t *ret_n);

int parse_output(const char *s, char **ret_path);
/* "ADDR:PORT" or "[IPV6]:PORT", numeric, port 0-65535 (0: the kernel picks). -EINVAL otherwise. */
int parse_listen_address(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len);

/* How --help and the docs word the default of `id`: "on", "[ \"/etc/\" ]", "none", ... Points into the table
 * or into `buf`. */
const char *setting_default_describe(SettingId id, char *buf, size_t size);
/* The defaults layer: every setting with a default, source DEFAULT; `loader_embedded` is the profile's. */
int settings_defaults(bool loader_embedded, Settings *ret);

void setting_value_reset(SettingId id, SettingValue *v);
void settings_done(Settings *s);
/* Layers `upper` over `lower` in place: any value set in upper replaces lower's. Moves ownership. */
void settings_overlay(Settings *lower, Settings *upper);
/* Fills every still-unset setting that has a default from `defaults`. */
int settings_fill_defaults(Settings *s, const Settings *defaults);

static inline const char *settings_str(const Settings *s, SettingId id)
{
        return s->v[id].source == SOURCE_UNSET ? NULL : s->v[id].str;
}

static inline bool settings_bool(const Settings *s, SettingId id)
{
        return s->v[id].b;
}

static inline uint64_t settings_uint(const Settings *s, SettingId id)
{
        return s->v[id].u;
}

static inline bool settings_is_set(const Settings *s, SettingId id)
{
        return s->v[id].source != SOURCE_UNSET;
}

/* Reads every environment binding from `envp` ("KEY=value" strings) into `ret` (source ENV).
 * On a bad value writes "VARIABLE: what is wrong" to `error` and returns -EINVAL. */
int settings_from_env(const char *const *envp, Settings *ret, char *error, size_t error_size);
