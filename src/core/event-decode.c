/* Decoding trusts nothing: the record came from the kernel, but a mismatched program version, a pinned map
 * from another build or a bug must show up as -EBADMSG, never as a read past the end. Every length is
 * checked against the bytes that are really there before anything points into them. */

#include <errno.h>
#include <string.h>

#include "core/event-decode.h"
#include "util/macro.h"

static const size_t payload_size[_LG_EVENT_TYPE_MAX] = {
        [LG_EVENT_EXEC] = sizeof(struct lg_exec),     [LG_EVENT_EXIT] = sizeof(struct lg_exit),
        [LG_EVENT_CRED] = sizeof(struct lg_cred),     [LG_EVENT_FILE] = sizeof(struct lg_file),
        [LG_EVENT_NET] = sizeof(struct lg_net),       [LG_EVENT_MODULE] = sizeof(struct lg_module),
        [LG_EVENT_PTRACE] = sizeof(struct lg_ptrace), [LG_EVENT_BPF_PROG] = sizeof(struct lg_bpf_prog),
};

static const char *const type_names[_LG_EVENT_TYPE_MAX] = {
        [LG_EVENT_EXEC] = "exec",     [LG_EVENT_EXIT] = "exit",         [LG_EVENT_CRED] = "cred",
        [LG_EVENT_FILE] = "file",     [LG_EVENT_NET] = "net",           [LG_EVENT_MODULE] = "module",
        [LG_EVENT_PTRACE] = "ptrace", [LG_EVENT_BPF_PROG] = "bpf_prog",
};

const char *event_type_to_string(unsigned type)
{
        return type < _LG_EVENT_TYPE_MAX ? type_names[type] : NULL;
}

/* Walks the string area: each string takes exactly its declared length and must end in NUL. */
typedef struct StringCursor {
        const char *p;
        size_t left;
} StringCursor;

static int take_string(StringCursor *c, size_t len, const char **ret, size_t *ret_len)
{
        if (len == 0) {
                *ret = NULL;
                *ret_len = 0;
                return 0;
        }
        if (len > c->left || c->p[len - 1] != 0)
                return -EBADMSG;
        *ret = c->p;
        *ret_len = strlen(c->p); /* bounded: p[len - 1] is NUL */
        c->p += len;
        c->left -= len;
        return 0;
}

static size_t count_args(const char *argv, size_t size)
{
        size_t n = 0;

        for (size_t i = 0; i < size; i++)
                if (argv[i] == 0)
                        n++;
        return n;
}

static int decode_strings(LgEvent *ev, StringCursor *c)
{
        int r;

        switch (ev->hdr.type) {
        case LG_EVENT_EXEC:
                r = take_string(c, ev->exec.filename_len, &ev->path, &ev->path_len);
                if (r < 0)
                        return r;
                /* argv holds several strings: only its end must be NUL. */
                if (ev->exec.argv_len > c->left ||
                    (ev->exec.argv_len > 0 && c->p[ev->exec.argv_len - 1] != 0))
                        return -EBADMSG;
                ev->argv = ev->exec.argv_len > 0 ? c->p : NULL;
                ev->argv_size = ev->exec.argv_len;
                ev->argc = count_args(c->p, ev->argv_size);
                c->p += ev->argv_size;
                c->left -= ev->argv_size;
                return 0;
        case LG_EVENT_FILE:
                if (ev->file.path_len == 0)
                        return -EBADMSG;
                r = take_string(c, ev->file.path_len, &ev->path, &ev->path_len);
                if (r < 0)
                        return r;
                return take_string(c, ev->file.path2_len, &ev->path2, &ev->path2_len);
        case LG_EVENT_MODULE:
                return take_string(c, ev->module.name_len, &ev->name, &ev->name_len);
        case LG_EVENT_BPF_PROG:
                return take_string(c, ev->bpf_prog.name_len, &ev->name, &ev->name_len);
        default:
                return 0;
        }
}

int event_decode(const void *data, size_t size, LgEvent *ret)
{
        const char *p = data;
        StringCursor c;
        size_t fixed;
        int r;

        if (!data || size < sizeof(struct lg_event_header) || size > LG_RECORD_MAX)
                return -EBADMSG;

        *ret = (LgEvent){};
        memcpy(&ret->hdr, p, sizeof(ret->hdr));
        if (ret->hdr.type == 0 || ret->hdr.type >= _LG_EVENT_TYPE_MAX)
                return -EBADMSG;
        /* The ring buffer may pad a record, never shorten it. */
        if (ret->hdr.size > size)
                return -EBADMSG;
        fixed = sizeof(ret->hdr) + payload_size[ret->hdr.type];
        if (ret->hdr.size < fixed)
                return -EBADMSG;
        memcpy((void *)&ret->exec, p + sizeof(ret->hdr), payload_size[ret->hdr.type]);
        ret->hdr.comm[sizeof(ret->hdr.comm) - 1] = 0;

        c = (StringCursor){.p = p + fixed, .left = ret->hdr.size - fixed};
        r = decode_strings(ret, &c);
        if (r < 0)
                return r;
        if (c.left != 0) /* trailing bytes that no length accounts for */
                return -EBADMSG;
        return 0;
}
