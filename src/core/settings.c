/* The settings table and the value parsers. Pure: no I/O, the environment is passed in. */

#include "core/settings.h"

#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "util/hash-util.h"
#include "util/log.h"
#include "util/macro.h"
#include "util/secure-mem.h"
#include "util/utf8.h"

#define BOOL_ACCEPTS "1/0, true/false, yes/no, on/off"

/* "a", "b", "c", "d" -> "a,b,c,d", the list value of the default file prefixes. Another number of
 * prefixes fails to compile here: extend the join then. */
#define JOIN4(a, b, c, d)             a "," b "," c "," d
#define JOIN_LIST(...)                JOIN4(__VA_ARGS__)
#define SETTING_DEFAULT_FILE_PREFIXES JOIN_LIST(SETTING_DEFAULT_FILE_PREFIX_LIST)

static int validate_output(const char *v)
{
        _cleanup_free_ char *path = NULL;
        return parse_output(v, &path);
}

static int validate_output_format(const char *v)
{
        return streq(v, "auto") || streq(v, "json") || streq(v, "compact") ? 0 : -EINVAL;
}

static int validate_log_level(const char *v)
{
        int l = log_level_from_string(v);
        return l < 0 || l < LOG_ERR ? -EINVAL : 0;
}

static int validate_log_format(const char *v)
{
        return log_format_from_string(v) < 0 ? -EINVAL : 0;
}

/* "scheme://user:password@host/": an '@' before the authority ends. */
static bool url_has_credentials(const char *v)
{
        const char *authority = strstr(v, "://");

        if (!authority)
                return false;
        authority += 3;
        return memchr(authority, '@', strcspn(authority, "/?#")) != NULL;
}

static const char *explain_url(const char *v)
{
        return url_has_credentials(v) ? "refusing a URL with credentials in it (user:password@): "
                                        "credentials go in the enrolment token, not the URL"
                                      : NULL;
}

static int validate_https_url(const char *v)
{
        const char *host = startswith(v, "https://");
        if (!host || !*host || *host == '/' || url_has_credentials(v))
                return -EINVAL;
        for (const char *p = v; *p; p++)
                if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
                        return -EINVAL;
        return 0;
}

/* Identities end up in the backend's records, file names and log lines: one line of printable text. */
static int validate_identity(const char *v)
{
        return !isempty(v) && utf8_is_printable(v) ? 0 : -EINVAL;
}

static const char *explain_identity(const char *v)
{
        return isempty(v) ? NULL
                          : "contains a control character (CR, LF, ESC, ...) or malformed UTF-8 "
                            "(accepts printable UTF-8 text on one line)";
}

static int validate_absolute_path(const char *v)
{
        return v[0] == '/' ? 0 : -EINVAL;
}

static int validate_socket(const char *v)
{
        size_t n = strlen(v);
        return (v[0] == '/' || v[0] == '@') && n >= 2 && n < 108 ? 0 : -EINVAL;
}

static int validate_listen_address(const char *v)
{
        struct sockaddr_storage sa;
        socklen_t len;
        return parse_listen_address(v, &sa, &len);
}

static int validate_token_tag(const char *v)
{
        unsigned char raw[32];
        return hexdecode_exact(v, raw, sizeof(raw));
}

const SettingInfo setting_table[_SETTING_MAX] = {
        [SETTING_CONFIG] = {.def = DEFAULT_CONFIG_FILE,
                            .name = "config",
                            .flag = "config",
                            .flag_takes_value = true,
                            .type = SETTING_STRING,
                            .accepts = "an absolute file path",
                            .validate = validate_absolute_path,
                            .help = "Configuration file"},
        [SETTING_EPHEMERAL] = {.def = "false",
                               .name = "ephemeral",
                               .flag = "ephemeral",
                               .type = SETTING_BOOL,
                               .accepts = "no value",
                               .help = "Force ephemeral (container) mode"},
        [SETTING_ENROLL_TOKEN] =
                {.name = "enroll_token",
                 .flag = "enroll-token",
                 .flag_takes_value = true,
                 .env = "LINUXGUARD_ENROLL_TOKEN",
                 .type = SETTING_STRING,
                 .secret = true,
                 .accepts = "a TOTP enrolment token",
                 .help = "Enrolment token; implies ephemeral mode (prefer the environment)"},
        [SETTING_ENROLL_TOKEN_FILE] = {.name = "enroll_token_file",
                                       .flag = "enroll-token-file",
                                       .flag_takes_value = true,
                                       .env = "LINUXGUARD_ENROLL_TOKEN_FILE",
                                       .key = "enroll_token_file",
                                       .type = SETTING_STRING,
                                       .accepts = "an absolute file path",
                                       .validate = validate_absolute_path,
                                       .help = "Read the enrolment token from a file (mode 0400 or 0600)"},
        [SETTING_ENROLL_TOKEN_TAG] =
                {.name = "enroll_token_tag",
                 .flag = "enroll-token-tag",
                 .flag_takes_value = true,
                 .env = "LINUXGUARD_ENROLL_TOKEN_TAG",
                 .type = SETTING_STRING,
                 .accepts = "64 hex digits",
                 .validate = validate_token_tag,
                 .help = "Pre-computed hex(sha256(token \":\" workload id)) for --tls-cache"},
        [SETTING_ENROLL_TIMEOUT] = {.def = STRINGIFY(SETTING_DEFAULT_ENROLL_TIMEOUT),
                                    .name = "enroll_timeout",
                                    .flag = "enroll-timeout",
                                    .flag_takes_value = true,
                                    .key = "enroll_timeout",
                                    .type = SETTING_UINT,
                                    .min = 1,
                                    .max = 86400,
                                    .accepts = "seconds, 1 to 86400",
                                    .help = "Give up enrolling after this many seconds of retries"},
        [SETTING_TENANT_ID] = {.name = "tenant_id",
                               .flag = "tenant-id",
                               .flag_takes_value = true,
                               .env = "LINUXGUARD_TENANT_ID",
                               .key = "tenant_id",
                               .type = SETTING_STRING,
                               .accepts = "a tenant identifier",
                               .validate = validate_identity,
                               .explain = explain_identity,
                               .help = "Tenant to enrol into"},
        [SETTING_WORKLOAD_ID] = {.def_doc = "derived (see IDENTITY)",
                                 .name = "workload_id",
                                 .flag = "workload-id",
                                 .flag_takes_value = true,
                                 .key = "workload_id",
                                 .type = SETTING_STRING,
                                 .accepts = "any string (it is hashed)",
                                 .validate = validate_identity,
                                 .explain = explain_identity,
                                 .help = "Explicit workload identifier, hashed with SHA-256"},
        [SETTING_NODE_ID] =
                {.name = "node_id",
                 .flag = "node-id",
                 .flag_takes_value = true,
                 .env = "LINUXGUARD_NODE_NAME",
                 .type = SETTING_STRING,
                 .accepts = "a Kubernetes node name",
                 .validate = validate_identity,
                 .explain = explain_identity,
                 .help = "Node name (Downward API), with LINUXGUARD_POD_UID derives the workload id"},
        [SETTING_POD_UID] = {.name = "pod_uid",
                             .env = "LINUXGUARD_POD_UID",
                             .type = SETTING_STRING,
                             .accepts = "a pod UID",
                             .validate = validate_identity,
                             .explain = explain_identity,
                             .help = "Pod UID (Downward API), environment only"},
        [SETTING_TLS_CACHE] = {.def = "false",
                               .name = "tls_cache",
                               .flag = "tls-cache",
                               .key = "tls_cache",
                               .type = SETTING_BOOL,
                               .accepts = BOOL_ACCEPTS,
                               .help = "Cache the mTLS chain on the /run/linuxguard tmpfs across restarts"},
        [SETTING_LOADER_EMBEDDED] =
                {.def_doc = BUILT_WITH_LOADER_EMBEDDED ? "on in ephemeral mode, off on hosts" : "off",
                 .name = "loader_embedded",
                 .flag = "loader-embedded",
                 .flag_value_optional = true,
                 .env = "LINUXGUARD_LOADER_EMBEDDED",
                 .key = "loader_embedded",
                 .type = SETTING_BOOL,
                 .accepts = BOOL_ACCEPTS,
                 .help = "Load eBPF programs in-process instead of using the pinned set"},
        [SETTING_API_URL] = {.def = DEFAULT_API_URL,
                             .def_doc = DEFAULT_API_URL " (channel default)",
                             .name = "api_url",
                             .flag = "api-url",
                             .flag_takes_value = true,
                             .env = "LINUXGUARD_API_URL",
                             .key = "api_url",
                             .type = SETTING_STRING,
                             .accepts = "an https:// URL",
                             .explain = explain_url,
                             .validate = validate_https_url,
                             .help = "LinuxGuard API base URL"},
        [SETTING_CA_FILE] = {.def_doc = "system trust store",
                             .name = "ca_file",
                             .flag = "ca-file",
                             .flag_takes_value = true,
                             .env = "LINUXGUARD_CA_FILE",
                             .key = "ca_file",
                             .type = SETTING_STRING,
                             .accepts = "an absolute file path",
                             .validate = validate_absolute_path,
                             .help = "PEM CA bundle trusted for the API (default: the system store)"},
        [SETTING_OUTPUT] = {.def = "stdout",
                            /* start.c's default_output(): api with a stored enrolment or a token */
                            .def_doc = "stdout; api once there is an identity to send with",
                            .name = "output",
                            .flag = "output",
                            .flag_takes_value = true,
                            .env = "LINUXGUARD_OUTPUT",
                            .key = "output",
                            .type = SETTING_STRING,
                            .accepts = "stdout, file:/ABSOLUTE/PATH or api",
                            .validate = validate_output,
                            .help = "Where events go"},
        [SETTING_OUTPUT_FORMAT] = {.def = "auto",
                                   .def_doc = "auto: compact when the output is a terminal, json otherwise",
                                   .name = "output_format",
                                   .flag = "output-format",
                                   .flag_takes_value = true,
                                   .env = "LINUXGUARD_OUTPUT_FORMAT",
                                   .key = "output_format",
                                   .type = SETTING_STRING,
                                   .accepts = "auto, json or compact",
                                   .validate = validate_output_format,
                                   .help = "Format of the local output: one JSON object or one short line "
                                           "per event"},
        [SETTING_LOG_LEVEL] = {.def = "info",
                               .name = "log_level",
                               .flag = "log-level",
                               .flag_takes_value = true,
                               .env = "LINUXGUARD_LOG_LEVEL",
                               .key = "log_level",
                               .type = SETTING_STRING,
                               .accepts = "debug, info, notice, warning or error",
                               .validate = validate_log_level,
                               .help = "Most verbose level logged"},
        [SETTING_LOG_FORMAT] = {.def = "text",
                                .name = "log_format",
                                .flag = "log-format",
                                .flag_takes_value = true,
                                .env = "LINUXGUARD_LOG_FORMAT",
                                .key = "log_format",
                                .type = SETTING_STRING,
                                .accepts = "text or json",
                                .validate = validate_log_format,
                                .help = "Format of log lines on stderr"},
        [SETTING_HEARTBEAT_INTERVAL] = {.def = STRINGIFY(SETTING_DEFAULT_HEARTBEAT_INTERVAL),
                                        .name = "heartbeat_interval",
                                        .flag = "heartbeat-interval",
                                        .flag_takes_value = true,
                                        .key = "heartbeat_interval",
                                        .type = SETTING_UINT,
                                        .min = 1,
                                        .max = 86400,
                                        .accepts = "seconds, 1 to 86400",
                                        .help = "Seconds between heartbeats"},
        [SETTING_SENSOR_PROCESS] = {.def = "true",
                                    .name = "sensors.process",
                                    .key = "sensors.process",
                                    .type = SETTING_BOOL,
                                    .accepts = BOOL_ACCEPTS,
                                    .help = "Process sensor: exec, exit, setuid family, capset"},
        [SETTING_SENSOR_FILE] = {.def = "true",
                                 .name = "sensors.file",
                                 .key = "sensors.file",
                                 .type = SETTING_BOOL,
                                 .accepts = BOOL_ACCEPTS,
                                 .help = "File sensor: opens, unlinks and renames under watched prefixes"},
        [SETTING_SENSOR_NETWORK] = {.def = "true",
                                    .name = "sensors.network",
                                    .key = "sensors.network",
                                    .type = SETTING_BOOL,
                                    .accepts = BOOL_ACCEPTS,
                                    .help = "Network sensor: TCP connects and accepts"},
        [SETTING_SENSOR_KERNEL] = {.def = "true",
                                   .name = "sensors.kernel",
                                   .key = "sensors.kernel",
                                   .type = SETTING_BOOL,
                                   .accepts = BOOL_ACCEPTS,
                                   .help = "Kernel sensor: module loads, ptrace attach, BPF program loads"},
        [SETTING_RING_BUFFER_SIZE] = {.def = STRINGIFY(SETTING_DEFAULT_RING_BUFFER_SIZE),
                                      .name = "sensors.ring_buffer_size",
                                      .key = "sensors.ring_buffer_size",
                                      .type = SETTING_UINT,
                                      .min = 4096,
                                      .max = 1024ULL * 1024 * 1024,
                                      .accepts = "bytes, 4096 to 1073741824, rounded up to a power of two",
                                      .help = "Size of the kernel-to-agent ring buffer"},
        [SETTING_BATCH_MAX_EVENTS] = {.def = STRINGIFY(SETTING_DEFAULT_BATCH_MAX_EVENTS),
                                      .name = "delivery.batch_max_events",
                                      .key = "delivery.batch_max_events",
                                      .type = SETTING_UINT,
                                      .min = 1,
                                      .max = 100000,
                                      .accepts = "events, 1 to 100000",
                                      .help = "A batch to the API holds at most this many events"},
        [SETTING_BATCH_MAX_BYTES] = {.def = STRINGIFY(SETTING_DEFAULT_BATCH_MAX_BYTES),
                                     .name = "delivery.batch_max_bytes",
                                     .key = "delivery.batch_max_bytes",
                                     .type = SETTING_UINT,
                                     .min = 4096,
                                     .max = 8388608,
                                     .accepts = "bytes, 4096 to 8388608",
                                     .help = "A batch to the API holds at most this many bytes of NDJSON"},
        [SETTING_BATCH_MAX_AGE_MS] =
                {.def = STRINGIFY(SETTING_DEFAULT_BATCH_MAX_AGE_MS),
                 .name = "delivery.batch_max_age_ms",
                 .key = "delivery.batch_max_age_ms",
                 .type = SETTING_UINT,
                 .min = 10,
                 .max = 60000,
                 .accepts = "milliseconds, 10 to 60000",
                 .help = "A batch is sent at the latest this long after its first event"},
        [SETTING_QUEUE_MAX_BYTES] = {.def = STRINGIFY(SETTING_DEFAULT_QUEUE_MAX_BYTES),
                                     .name = "delivery.queue_max_bytes",
                                     .key = "delivery.queue_max_bytes",
                                     .type = SETTING_UINT,
                                     .min = 4096,
                                     .max = 1024ULL * 1024 * 1024,
                                     .accepts = "bytes, 4096 to 1073741824",
                                     .help = "Memory for events waiting for delivery; beyond it the oldest "
                                             "are dropped (ephemeral) or spooled (host)"},
        [SETTING_SPOOL_MAX_BYTES] =
                {.def = STRINGIFY(SETTING_DEFAULT_SPOOL_MAX_BYTES),
                 .name = "delivery.spool_max_bytes",
                 .key = "delivery.spool_max_bytes",
                 .type = SETTING_UINT,
                 .min = 1024 * 1024,
                 .max = 64ULL * 1024 * 1024 * 1024,
                 .accepts = "bytes, 1048576 to 68719476736",
                 .help = "Host mode: disk for undelivered events under "
                         "/var/lib/linuxguard/spool; beyond it the oldest segment is dropped"},
        [SETTING_CONTROL_SOCKET] = {.def = SETTING_DEFAULT_CONTROL_SOCKET,
                                    .def_doc = SETTING_DEFAULT_CONTROL_SOCKET
                                    ", or @linuxguard/control where that cannot be created",
                                    .name = "control_socket",
                                    .flag = "control-socket",
                                    .flag_takes_value = true,
                                    .key = "control_socket",
                                    .type = SETTING_STRING,
                                    .accepts = "an absolute socket path, or @NAME for an abstract socket",
                                    .validate = validate_socket,
                                    .help = "Control API socket (linuxguard status, health); root and the "
                                            "agent's uid only"},
        [SETTING_METRICS_LISTEN] =
                {.def_doc = "off",
                 .name = "metrics_listen",
                 .flag = "metrics-listen",
                 .flag_takes_value = true,
                 .key = "metrics_listen",
                 .type = SETTING_STRING,
                 .accepts = "ADDR:PORT or [IPV6]:PORT, numeric",
                 .validate = validate_listen_address,
                 .help = "Serve Prometheus metrics over HTTP at /metrics (off unless set)"},
        [SETTING_FILE_PREFIXES] =
                {.def = SETTING_DEFAULT_FILE_PREFIXES,
                 .name = "sensors.file_prefixes",
                 .key =
                         "sensors.file_prefixes",
                 .type = SETTING_LIST,
                 .list_kind = LIST_ABSOLUTE_PATH,
                 .max_items = 8,
                 .max_len = 63,
                 .accepts = "a list of up to 8 absolute path prefixes, each at most 63 bytes",
                 .help = "Paths the file sensor watches, matched as prefixes in the kernel"},
        [SETTING_PID_ALLOW] =
                {
                        .def = "",
                        .def_doc = "empty (every process)",
                        .name = "sensors.pid_allow",
                        .key = "sensors.pid_allow",
                        .type = SETTING_LIST,
                        .list_kind = LIST_UINT,
                        .min = 1,
                        .max = 4194304,
                        .max_items = 1024,
                        .accepts = "a list of up to 1024 process ids",
                        .help = "When not empty, only these processes (thread group ids) are reported"},
        [SETTING_PID_DENY] = {.def = "",
                              .name = "sensors.pid_deny",
                              .key = "sensors.pid_deny",
                              .type = SETTING_LIST,
                              .list_kind = LIST_UINT,
                              .min = 1,
                              .max = 4194304,
                              .max_items = 1024,
                              .accepts = "a list of up to 1024 process ids",
                              .help = "Processes never reported"},
        [SETTING_CGROUP_ALLOW] =
                {.def = "",
                 .def_doc = "empty (every process)",
                 .name = "sensors.cgroup_allow",
                 .key =
                         "sensors.cgroup_allow",
                 .type = SETTING_LIST,
                 .list_kind = LIST_ABSOLUTE_PATH,
                 .max_items = 1024,
                 .max_len = 4095,
                 .accepts = "a list of up to 1024 cgroup v2 paths (relative to the cgroup2 mount)",
                 .help = "When not empty, only processes in these cgroups are reported"},
        [SETTING_CGROUP_DENY] =
                {.def = "",
                 .name = "sensors.cgroup_deny",
                 .key =
                         "sensors.cgroup_deny",
                 .type = SETTING_LIST,
                 .list_kind = LIST_ABSOLUTE_PATH,
                 .max_items = 1024,
                 .max_len = 4095,
                 .accepts = "a list of up to 1024 cgroup v2 paths (relative to the cgroup2 mount)",
                 .help = "Processes in these cgroups are never reported"},
};

const SettingInfo *setting_info(SettingId id)
{
        assert(id >= 0 && id < _SETTING_MAX);
        return &setting_table[id];
}

/* [ "a", "b" ] as the config file writes a list. */
static const char *describe_list(const char *value, char *buf, size_t size)
{
        size_t n = 0;

        n += snprintf(buf + n, size - n, "[");
        for (const char *p = value; *p && n < size;) {
                size_t len = strcspn(p, ",");
                n += snprintf(buf + n, size - n, "%s \"%.*s\"", p == value ? "" : ",", (int)len, p);
                p += len + (p[len] == ',');
        }
        if (n < size)
                snprintf(buf + n, size - n, " ]");
        return buf;
}

const char *setting_default_describe(SettingId id, char *buf, size_t size)
{
        const SettingInfo *info = setting_info(id);

        assert(buf && size > 0);
        if (info->def_doc)
                return info->def_doc;
        if (!info->def)
                return "none";
        if (info->type == SETTING_BOOL)
                return parse_boolean(info->def) > 0 ? "on" : "off";
        if (info->type == SETTING_LIST)
                return isempty(info->def) ? "empty" : describe_list(info->def, buf, size);
        return info->def;
}

int settings_defaults(bool loader_embedded, Settings *ret)
{
        int r;

        assert(ret);
        *ret = (Settings){};
        for (size_t i = 0; i < _SETTING_MAX; i++) {
                if (!setting_table[i].def)
                        continue;
                r = setting_parse(i, setting_table[i].def, SOURCE_DEFAULT, &ret->v[i]);
                if (r < 0)
                        return r;
        }
        return setting_parse(SETTING_LOADER_EMBEDDED, loader_embedded ? "true" : "false", SOURCE_DEFAULT,
                             &ret->v[SETTING_LOADER_EMBEDDED]);
}

int setting_lookup_flag(const char *flag)
{
        for (size_t i = 0; i < _SETTING_MAX; i++)
                if (setting_table[i].flag && streq(setting_table[i].flag, flag))
                        return (int)i;
        return -ENOENT;
}

const char *setting_source_to_string(SettingSource s)
{
        static const char *const names[] = {
                [SOURCE_UNSET] = "unset", [SOURCE_DEFAULT] = "default", [SOURCE_FILE] = "file",
                [SOURCE_ENV] = "env",     [SOURCE_FLAG] = "flag",
        };
        return names[s];
}

int parse_boolean(const char *s)
{
        static const char *const yes[] = {"1", "true", "yes", "on"}, *const no[] = {"0", "false", "no",
                                                                                    "off"};

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcasecmp(s, yes[i]) == 0)
                        return 1;
                if (strcasecmp(s, no[i]) == 0)
                        return 0;
        }
        return -EINVAL;
}

int parse_output(const char *s, char **ret_path)
{
        const char *path;

        *ret_path = NULL;
        if (streq(s, "stdout") || streq(s, "api"))
                return 0;
        path = startswith(s, "file:");
        if (!path || path[0] != '/' || path[strlen(path) - 1] == '/')
                return -EINVAL;
        *ret_path = strdup(path);
        return *ret_path ? 0 : -ENOMEM;
}

int setting_list_split(const char *value, char ***ret, size_t *ret_n)
{
        size_t n = 0, n_max = 1;
        char **l;

        /* One element per comma and one more, empty ones included ("/,,," is four), and the NULL. */
        for (const char *p = value; *p; p++)
                n_max += *p == ',';
        l = calloc(n_max + 1, sizeof(char *));
        if (!l)
                return -ENOMEM;
        for (const char *p = value; *p;) {
                size_t len = strcspn(p, ",");
                l[n] = strndup(p, len);
                if (!l[n]) {
                        strv_free(l);
                        return -ENOMEM;
                }
                n++;
                p += len;
                if (*p == ',')
                        p++;
        }
        *ret = l;
        *ret_n = n;
        return 0;
}

static int parse_uint(const char *s, uint64_t *ret);

static int validate_list(const SettingInfo *info, const char *value)
{
        char **l = NULL;
        size_t n = 0;
        int r;

        r = setting_list_split(value, &l, &n);
        if (r < 0)
                return r;
        if (n > info->max_items)
                r = -EINVAL;
        for (size_t i = 0; r >= 0 && i < n; i++) {
                uint64_t u;

                if (info->list_kind == LIST_ABSOLUTE_PATH)
                        r = l[i][0] == '/' && strlen(l[i]) <= info->max_len ? 0 : -EINVAL;
                else
                        r = parse_uint(l[i], &u) >= 0 && u >= info->min && u <= info->max ? 0 : -EINVAL;
        }
        strv_free(l);
        return r;
}

static int parse_uint(const char *s, uint64_t *ret)
{
        char *end;
        unsigned long long v;

        if (!isdigit((unsigned char)s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoull(s, &end, 10);
        if (errno != 0 || *end)
                return -EINVAL;
        *ret = v;
        return 0;
}

int parse_listen_address(const char *s, struct sockaddr_storage *ret, socklen_t *ret_len)
{
        char host[INET6_ADDRSTRLEN + 2];
        const char *colon = strrchr(s, ':');
        bool bracketed = s[0] == '[';
        uint64_t port;
        size_t n;

        if (!colon || colon == s || !colon[1] || parse_uint(colon + 1, &port) < 0 || port > 65535)
                return -EINVAL;
        n = (size_t)(colon - s);
        if (bracketed) {
                if (n < 3 || s[n - 1] != ']')
                        return -EINVAL;
                s++;
                n -= 2;
        }
        if (n >= sizeof(host))
                return -EINVAL;
        memcpy(host, s, n);
        host[n] = '\0';

        *ret = (struct sockaddr_storage){};
        if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ret)->sin_addr) == 1 && !bracketed) {
                ((struct sockaddr_in *)ret)->sin_family = AF_INET;
                ((struct sockaddr_in *)ret)->sin_port = htons((uint16_t)port);
                *ret_len = sizeof(struct sockaddr_in);
                return 0;
        }
        if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ret)->sin6_addr) == 1 && bracketed) {
                ((struct sockaddr_in6 *)ret)->sin6_family = AF_INET6;
                ((struct sockaddr_in6 *)ret)->sin6_port = htons((uint16_t)port);
                *ret_len = sizeof(struct sockaddr_in6);
                return 0;
        }
        return -EINVAL;
}

/* A secret never sits in ordinary heap: from the first copy on it is in a locked page left out of core
 * dumps and wiped on release. */
static char *setting_strdup(SettingId id, const char *value)
{
        return setting_table[id].secret ? secure_strndup(value, strlen(value)) : strdup(value);
}

int setting_parse(SettingId id, const char *value, SettingSource source, SettingValue *ret)
{
        const SettingInfo *info = &setting_table[id];
        SettingValue v = {.source = source};
        int r;

        switch (info->type) {
        case SETTING_BOOL:
                r = parse_boolean(value);
                if (r < 0)
                        return r;
                v.b = r;
                break;
        case SETTING_UINT:
                r = parse_uint(value, &v.u);
                if (r < 0 || v.u < info->min || v.u > info->max)
                        return -EINVAL;
                break;
        case SETTING_STRING:
                if (info->validate && info->validate(value) < 0)
                        return -EINVAL;
                break;
        case SETTING_LIST:
                r = validate_list(info, value);
                if (r < 0)
                        return r;
                break;
        }

        v.str = setting_strdup(id, value);
        if (!v.str)
                return -ENOMEM;
        *ret = v;
        return 0;
}

void setting_describe_refusal(SettingId id, const char *value, char *buf, size_t size)
{
        const SettingInfo *info = setting_info(id);
        const char *why = info->explain && value ? info->explain(value) : NULL;

        if (why)
                snprintf(buf, size, "%s", why);
        else if (info->secret)
                snprintf(buf, size, "invalid value (accepts %s)", info->accepts);
        else
                snprintf(buf, size, "invalid value \"%s\" (accepts %s)", strempty(value), info->accepts);
}

void setting_value_reset(SettingId id, SettingValue *v)
{
        if (setting_table[id].secret)
                v->str = secure_free(v->str);
        else
                v->str = mfree(v->str);
        *v = (SettingValue){};
}

void settings_done(Settings *s)
{
        for (size_t i = 0; i < _SETTING_MAX; i++)
                setting_value_reset(i, &s->v[i]);
}

void settings_overlay(Settings *lower, Settings *upper)
{
        for (size_t i = 0; i < _SETTING_MAX; i++) {
                if (upper->v[i].source == SOURCE_UNSET)
                        continue;
                setting_value_reset(i, &lower->v[i]);
                lower->v[i] = upper->v[i];
                upper->v[i] = (SettingValue){};
        }
}

int settings_fill_defaults(Settings *s, const Settings *defaults)
{
        for (size_t i = 0; i < _SETTING_MAX; i++) {
                if (s->v[i].source != SOURCE_UNSET || defaults->v[i].source == SOURCE_UNSET)
                        continue;
                s->v[i] = defaults->v[i];
                s->v[i].source = SOURCE_DEFAULT;
                if (defaults->v[i].str) {
                        s->v[i].str = setting_strdup(i, defaults->v[i].str);
                        if (!s->v[i].str)
                                return -ENOMEM;
                }
        }
        return 0;
}

static bool is_blank(const char *s)
{
        for (; *s; s++)
                if (!isspace((unsigned char)*s))
                        return false;
        return true;
}

int settings_from_env(const char *const *envp, Settings *ret, char *error, size_t error_size)
{
        for (size_t i = 0; i < _SETTING_MAX; i++) {
                const SettingInfo *info = &setting_table[i];
                _cleanup_free_ char *trimmed = NULL;
                const char *value;
                int r;

                if (!info->env)
                        continue;
                value = strv_env_get(envp, info->env);
                /* Empty means absent everywhere; for the API URL whitespace-only does too, so the channel
                 * default applies (a templated manifest often renders an empty value as " "). */
                if (isempty(value) || (i == SETTING_API_URL && is_blank(value)))
                        continue;
                if (i == SETTING_API_URL) {
                        size_t b = strspn(value, " \t\r\n"), e = strlen(value);
                        while (e > b && isspace((unsigned char)value[e - 1]))
                                e--;
                        trimmed = strndup(value + b, e - b);
                        if (!trimmed)
                                return -ENOMEM;
                        value = trimmed;
                }

                r = setting_parse(i, value, SOURCE_ENV, &ret->v[i]);
                if (r == -ENOMEM)
                        return r;
                if (r < 0) {
                        char why[512];

                        setting_describe_refusal(i, value, why, sizeof(why));
                        snprintf(error, error_size, "%s: %s", info->env, why);
                        return r;
                }
        }
        return 0;
}
