/* The on-disk spool.
 *
 * Layout under the spool directory:
 *   <16 hex digits>.seg   segments, numbered upwards; each a run of records
 *   cursor                "<segment hex> <offset>\n": the first unacknowledged byte, replaced atomically
 *
 * A record is a 24-byte little-endian header { magic "LGS1", length u32, sequence u64, crc32 u32, zero
 * u32 } and the payload; the crc32 (zlib) covers the length, the sequence and the payload. Each record
 * goes out in one writev() on an O_APPEND descriptor, so a crash leaves at most one torn record, at the
 * end of the segment that was being written; every open starts a new segment, so nothing is ever
 * appended after such a tail.
 *
 * Reading validates every record. On a bad one the reader scans forward for the next magic whose record
 * validates, and counts the damaged run once; a torn tail ends the segment. Nothing in a segment's
 * content can make the reader fail or loop.
 *
 * Durability: spool_sync() is fdatasync() of the segment being written (fsync of the directory too when
 * a segment was created); the caller decides how often, the shipper once per batch. The cursor is
 * written with fsync and rename, so after a crash it names an offset that was acknowledged: at worst the
 * last batch is delivered twice (at-least-once), never skipped. */

#include <dirent.h>
#include <endian.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <zlib.h>

#include "ship/spool.h"
#include "util/log.h"

#define SPOOL_MAGIC UINT32_C(0x3153474c) /* "LGS1" little-endian */
#define HEADER_SIZE 24
#define SCAN_CHUNK  (64U * 1024U)
#define CURSOR_FILE "cursor"
#define CURSOR_TEMP "cursor.tmp"

typedef struct SpoolPos {
        uint64_t segment;
        uint64_t offset;
} SpoolPos;

typedef struct Segment {
        uint64_t id;
        uint64_t size;
} Segment;

struct Spool {
        int dir_fd;
        SpoolConfig config;

        Segment *segments; /* ascending ids */
        size_t n_segments;

        int write_fd; /* appends go to the last segment while this is open */
        bool write_dirty;
        bool dir_dirty;

        int read_fd;
        uint64_t read_fd_id;

        uint64_t next_id; /* of the next segment: above every segment and the cursor */
        SpoolPos cursor;
        SpoolPos pending; /* end of the last spool_read() */

        SpoolStats stats;
};

static int pos_cmp(SpoolPos a, SpoolPos b)
{
        if (a.segment != b.segment)
                return a.segment < b.segment ? -1 : 1;
        if (a.offset != b.offset)
                return a.offset < b.offset ? -1 : 1;
        return 0;
}

static void segment_name(uint64_t id, char buf[static 32])
{
        snprintf(buf, 32, "%016" PRIx64 ".seg", id);
}

static uint32_t record_crc(uint32_t length, uint64_t seq, const void *data, size_t size)
{
        uint8_t h[12];
        uLong crc;
        uint32_t le_len = htole32(length);
        uint64_t le_seq = htole64(seq);

        memcpy(h, &le_len, 4);
        memcpy(h + 4, &le_seq, 8);
        crc = crc32(0L, h, sizeof(h));
        return (uint32_t)crc32(crc, data, (uInt)size);
}

static void header_pack(uint8_t h[static HEADER_SIZE], uint64_t seq, const void *data, size_t size)
{
        uint32_t v32;
        uint64_t v64;

        v32 = htole32(SPOOL_MAGIC);
        memcpy(h, &v32, 4);
        v32 = htole32((uint32_t)size);
        memcpy(h + 4, &v32, 4);
        v64 = htole64(seq);
        memcpy(h + 8, &v64, 8);
        v32 = htole32(record_crc((uint32_t)size, seq, data, size));
        memcpy(h + 16, &v32, 4);
        memset(h + 20, 0, 4);
}

/* --- the segment list --- */

static Segment *segment_find(Spool *s, uint64_t id)
{
        for (size_t i = 0; i < s->n_segments; i++)
                if (s->segments[i].id == id)
                        return &s->segments[i];
        return NULL;
}

static const Segment *segment_last(const Spool *s)
{
        return s->n_segments > 0 ? &s->segments[s->n_segments - 1] : NULL;
}

static int segment_add(Spool *s, uint64_t id, uint64_t size)
{
        Segment *p = reallocarray(s->segments, s->n_segments + 1, sizeof(Segment));
        size_t i;

        if (!p)
                return -ENOMEM;
        s->segments = p;
        for (i = s->n_segments; i > 0 && p[i - 1].id > id; i--)
                p[i] = p[i - 1];
        p[i] = (Segment){.id = id, .size = size};
        s->n_segments++;
        s->stats.bytes += size;
        return 0;
}

static void close_read_fd(Spool *s)
{
        s->read_fd = safe_close(s->read_fd);
}

static int segment_delete(Spool *s, size_t index)
{
        char name[32];

        if (s->read_fd >= 0 && s->read_fd_id == s->segments[index].id)
                close_read_fd(s);
        segment_name(s->segments[index].id, name);
        if (unlinkat(s->dir_fd, name, 0) < 0 && errno != ENOENT)
                return -errno;
        s->stats.bytes -= s->segments[index].size;
        memmove(s->segments + index, s->segments + index + 1, (s->n_segments - index - 1) * sizeof(Segment));
        s->n_segments--;
        s->dir_dirty = true;
        return 0;
}

static int load_segments(Spool *s)
{
        _cleanup_close_ int fd = -EBADF;
        DIR *d;
        struct dirent *de;
        int r = 0;

        fd = openat(s->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return -errno;
        d = fdopendir(fd);
        if (!d)
                return -errno;
        TAKE_FD(fd);
        while (r >= 0 && (errno = 0, de = readdir(d))) {
                char name[32];
                uint64_t id;
                struct stat st;

                if (sscanf(de->d_name, "%16" SCNx64 ".seg", &id) != 1)
                        continue;
                segment_name(id, name);
                if (!streq(name, de->d_name) || fstatat(s->dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
                    !S_ISREG(st.st_mode))
                        continue;
                r = segment_add(s, id, (uint64_t)st.st_size);
        }
        if (r >= 0 && errno != 0)
                r = -errno;
        closedir(d);
        return r;
}

/* --- the cursor --- */

static int cursor_load(Spool *s)
{
        _cleanup_close_ int fd = -EBADF;
        char buf[64] = {};
        uint64_t seg, off;
        ssize_t n;

        fd = openat(s->dir_fd, CURSOR_FILE, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
                return errno == ENOENT ? 0 : -errno;
        n = read(fd, buf, sizeof(buf) - 1);
        if (n < 0)
                return -errno;
        if (sscanf(buf, "%" SCNx64 " %" SCNu64, &seg, &off) != 2) {
                log_warning("Spool cursor is unreadable, delivering the spool from its oldest record.");
                return 0;
        }
        s->cursor = (SpoolPos){seg, off};
        return 0;
}

static int cursor_store(Spool *s)
{
        _cleanup_close_ int fd = -EBADF;
        char buf[64];
        int n;

        n = snprintf(buf, sizeof(buf), "%016" PRIx64 " %" PRIu64 "\n", s->cursor.segment, s->cursor.offset);
        fd = openat(s->dir_fd, CURSOR_TEMP, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        if (write(fd, buf, (size_t)n) != n)
                return errno > 0 ? -errno : -EIO;
        if (fsync(fd) < 0)
                return -errno;
        if (renameat(s->dir_fd, CURSOR_TEMP, s->dir_fd, CURSOR_FILE) < 0)
                return -errno;
        return RET_NERRNO(fsync(s->dir_fd));
}

/* Moves the cursor off fully read and missing segments, deleting the segments behind it. */
static int cursor_normalize(Spool *s)
{
        int r;

        while (s->n_segments > 0) {
                const Segment *first = &s->segments[0];

                if (first->id > s->cursor.segment) {
                        s->cursor = (SpoolPos){first->id, 0};
                        break;
                }
                if (first->id == s->cursor.segment) {
                        /* The last segment stays, read or not: appends may still go there. */
                        if (s->cursor.offset < first->size || s->n_segments == 1)
                                break;
                        s->cursor = (SpoolPos){s->segments[1].id, 0};
                } else if (s->write_fd >= 0 && s->n_segments == 1)
                        break;
                r = segment_delete(s, 0);
                if (r < 0)
                        return r;
        }
        if (s->n_segments == 0 && s->cursor.segment < s->next_id)
                s->cursor = (SpoolPos){s->next_id, 0};
        return 0;
}

/* Events wait here, unacknowledged: a directory another user owns or may write to lets them read,
 * replace or delete them. */
static int check_spool_dir(int fd, const char *dir)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return -errno;
        if (st.st_uid == geteuid() && !(st.st_mode & 0022))
                return 0;
        return log_error_errno(EPERM,
                               "Refusing the spool %s: owned by uid %u with mode %04o, so another user "
                               "could read, replace or delete the events waiting there. Remove it (rm -rf "
                               "%s) or chown it to uid %u and chmod 0700.",
                               dir, (unsigned)st.st_uid, (unsigned)(st.st_mode & 07777), dir,
                               (unsigned)geteuid());
}

int spool_open(Spool **ret, const char *dir, const SpoolConfig *cfg)
{
        _cleanup_(spool_freep) Spool *s = NULL;
        int r;

        if (!ret || isempty(dir) || !cfg || cfg->max_bytes < HEADER_SIZE || cfg->segment_bytes == 0)
                return -EINVAL;
        s = calloc(1, sizeof(Spool));
        if (!s)
                return -ENOMEM;
        s->dir_fd = s->write_fd = s->read_fd = -EBADF;
        s->config = *cfg;

        if (mkdir(dir, 0700) < 0 && errno != EEXIST)
                return -errno;
        s->dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (s->dir_fd < 0) {
                struct stat st;

                r = -errno;
                if (lstat(dir, &st) >= 0 && S_ISLNK(st.st_mode))
                        return log_error_errno(ELOOP,
                                               "Refusing the spool %s: it is a symbolic link. Remove it "
                                               "(rm %s); the agent creates the directory itself.",
                                               dir, dir);
                return r;
        }
        r = check_spool_dir(s->dir_fd, dir);
        if (r < 0)
                return r;
        r = load_segments(s);
        if (r < 0)
                return r;
        r = cursor_load(s);
        if (r < 0)
                return r;
        s->next_id = s->n_segments > 0 ? segment_last(s)->id + 1 : 1;
        if (s->cursor.segment >= s->next_id)
                s->next_id = s->cursor.segment + 1;
        r = cursor_normalize(s);
        if (r < 0)
                return r;
        s->pending = s->cursor;
        *ret = TAKE_PTR(s);
        return 0;
}

Spool *spool_free(Spool *s)
{
        if (!s)
                return NULL;
        if (s->write_fd >= 0) {
                int r = spool_sync(s);
                if (r < 0)
                        log_warning_errno(r, "Failed to sync the spool on close, ignoring: %m");
        }
        safe_close(s->write_fd);
        safe_close(s->read_fd);
        safe_close(s->dir_fd);
        free(s->segments);
        return mfree(s);
}

/* --- writing --- */

static int segment_start(Spool *s)
{
        uint64_t id = s->next_id;
        char name[32];
        int fd, r;

        segment_name(id, name);
        fd = openat(s->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
        if (fd < 0)
                return -errno;
        r = segment_add(s, id, 0);
        if (r < 0) {
                (void)unlinkat(s->dir_fd, name, 0);
                safe_close(fd);
                return r;
        }
        s->write_fd = fd;
        s->next_id = id + 1;
        s->dir_dirty = true;
        return 0;
}

static int segment_finish(Spool *s)
{
        int r = 0;

        if (s->write_fd < 0)
                return 0;
        if (s->write_dirty && fdatasync(s->write_fd) < 0)
                r = -errno;
        s->write_fd = safe_close(s->write_fd);
        s->write_dirty = false;
        return r;
}

/* Counts the valid records of a segment from `offset`, for the drop counter. */
static uint64_t segment_count_records(Spool *s, uint64_t id, uint64_t offset);

/* Drops the oldest segment to make room; never the one being written (it is finished first). */
static int drop_oldest_segment(Spool *s)
{
        const Segment *first = &s->segments[0];
        uint64_t from = first->id == s->cursor.segment ? s->cursor.offset : 0, n = 0;
        int r;

        if (first->id >= s->cursor.segment)
                n = segment_count_records(s, first->id, from);
        if (s->n_segments == 1) {
                r = segment_finish(s);
                if (r < 0)
                        return r;
        }
        log_warning("Spool cap of %" PRIu64 " bytes reached, dropping segment %016" PRIx64 " (%" PRIu64
                    " records).",
                    s->config.max_bytes, first->id, n);
        s->stats.dropped_cap += n;
        r = segment_delete(s, 0);
        if (r >= 0)
                r = cursor_normalize(s);
        if (r < 0)
                return r;
        if (pos_cmp(s->pending, s->cursor) < 0)
                s->pending = s->cursor;
        return cursor_store(s);
}

static int make_room(Spool *s, uint64_t need)
{
        int r;

        while (s->n_segments > 0 && s->stats.bytes + need > s->config.max_bytes) {
                r = drop_oldest_segment(s);
                if (r < 0)
                        return r;
        }
        return 0;
}

int spool_append(Spool *s, uint64_t seq, const void *data, size_t size)
{
        uint8_t header[HEADER_SIZE];
        struct iovec iov[2] = {{header, HEADER_SIZE}, {(void *)data, size}};
        uint64_t need = HEADER_SIZE + (uint64_t)size;
        Segment *seg;
        ssize_t n;
        int r;

        if (size > SPOOL_RECORD_MAX || need > s->config.max_bytes) {
                s->stats.dropped_cap++;
                return -E2BIG;
        }
        r = make_room(s, need);
        if (r < 0)
                return r;
        if (s->write_fd >= 0 && s->n_segments > 0 &&
            s->segments[s->n_segments - 1].size >= s->config.segment_bytes) {
                r = segment_finish(s);
                if (r < 0)
                        return r;
        }
        if (s->write_fd < 0) {
                r = segment_start(s);
                if (r < 0)
                        return r;
        }

        header_pack(header, seq, data, size);
        seg = &s->segments[s->n_segments - 1];
        n = writev(s->write_fd, iov, 2);
        if (n != (ssize_t)need) {
                r = n < 0 ? -errno : -EIO;
                /* Cut a partial record off, so the next append starts on a record boundary. */
                if (n > 0 && ftruncate(s->write_fd, (off_t)seg->size) < 0)
                        (void)segment_finish(s);
                return r;
        }
        seg->size += need;
        s->stats.bytes += need;
        s->stats.appended++;
        s->write_dirty = true;
        return 0;
}

int spool_sync(Spool *s)
{
        if (s->write_fd >= 0 && s->write_dirty) {
                if (fdatasync(s->write_fd) < 0)
                        return -errno;
                s->write_dirty = false;
        }
        if (s->dir_dirty) {
                if (fsync(s->dir_fd) < 0)
                        return -errno;
                s->dir_dirty = false;
        }
        return 0;
}

/* --- reading --- */

static int read_fd_for(Spool *s, uint64_t id)
{
        char name[32];

        if (s->read_fd >= 0 && s->read_fd_id == id)
                return s->read_fd;
        close_read_fd(s);
        segment_name(id, name);
        s->read_fd = openat(s->dir_fd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        if (s->read_fd < 0)
                return -errno;
        s->read_fd_id = id;
        return s->read_fd;
}

typedef struct RawRecord {
        uint64_t seq;
        uint32_t length;
        char *data; /* owned, NUL-terminated */
} RawRecord;

/* 1 and the record at `offset` when it validates, 0 when it does not, -errno on I/O errors. */
static int record_at(int fd, uint64_t offset, uint64_t end, RawRecord *ret)
{
        uint8_t h[HEADER_SIZE];
        uint32_t magic, length, crc;
        uint64_t seq;
        _cleanup_free_ char *data = NULL;
        ssize_t n;

        if (end - offset < HEADER_SIZE)
                return 0;
        n = pread(fd, h, HEADER_SIZE, (off_t)offset);
        if (n < 0)
                return -errno;
        if (n != HEADER_SIZE)
                return 0;
        memcpy(&magic, h, 4);
        memcpy(&length, h + 4, 4);
        memcpy(&seq, h + 8, 8);
        memcpy(&crc, h + 16, 4);
        length = le32toh(length);
        if (le32toh(magic) != SPOOL_MAGIC || length > SPOOL_RECORD_MAX ||
            length > end - offset - HEADER_SIZE)
                return 0;
        data = malloc((size_t)length + 1);
        if (!data)
                return -ENOMEM;
        n = pread(fd, data, length, (off_t)(offset + HEADER_SIZE));
        if (n < 0)
                return -errno;
        if ((size_t)n != length || record_crc(length, le64toh(seq), data, length) != le32toh(crc))
                return 0;
        data[length] = '\0';
        *ret = (RawRecord){.seq = le64toh(seq), .length = length, .data = TAKE_PTR(data)};
        return 1;
}

/* The offset of the next valid record after damage at `offset`, or `end`. */
static int resync(int fd, uint64_t offset, uint64_t end, uint64_t *ret)
{
        const uint32_t le_magic = htole32(SPOOL_MAGIC);
        _cleanup_free_ uint8_t *buf = malloc(SCAN_CHUNK);
        uint64_t at = offset + 1;

        if (!buf)
                return -ENOMEM;
        while (at + HEADER_SIZE <= end) {
                ssize_t n = pread(fd, buf, SCAN_CHUNK, (off_t)at);

                if (n < 0)
                        return -errno;
                if (n < 4)
                        break;
                for (ssize_t i = 0; i + 4 <= n; i++) {
                        RawRecord rec = {};
                        int r;

                        if (memcmp(buf + i, &le_magic, 4) != 0)
                                continue;
                        r = record_at(fd, at + (uint64_t)i, end, &rec);
                        if (r < 0)
                                return r;
                        free(rec.data);
                        if (r > 0) {
                                *ret = at + (uint64_t)i;
                                return 0;
                        }
                }
                at += (uint64_t)n - 3; /* a magic may straddle two chunks */
        }
        *ret = end;
        return 0;
}

/* The next valid record at or after *pos within segment `seg`, advancing *pos past it. 0 at the end. */
static int segment_next(Spool *s, const Segment *seg, uint64_t *pos, RawRecord *ret, bool count_damage)
{
        int fd = read_fd_for(s, seg->id), r;

        if (fd < 0)
                return fd;
        while (*pos < seg->size) {
                r = record_at(fd, *pos, seg->size, ret);
                if (r < 0)
                        return r;
                if (r > 0) {
                        *pos += HEADER_SIZE + ret->length;
                        return 1;
                }
                if (count_damage) {
                        s->stats.corrupt_records++;
                        log_warning("Spool segment %016" PRIx64 ": torn or corrupt record at offset %" PRIu64
                                    ", skipping it.",
                                    seg->id, *pos);
                }
                r = resync(fd, *pos, seg->size, pos);
                if (r < 0)
                        return r;
        }
        return 0;
}

static uint64_t segment_count_records(Spool *s, uint64_t id, uint64_t offset)
{
        const Segment *seg = segment_find(s, id);
        RawRecord rec = {};
        uint64_t n = 0;

        while (seg && segment_next(s, seg, &offset, &rec, false) > 0) {
                free(rec.data);
                n++;
        }
        return n;
}

int spool_read(Spool *s, size_t max_count, size_t max_bytes, EventBatch *ret)
{
        SpoolPos pos = s->cursor;
        size_t n = 0;
        int r;

        for (size_t i = 0; i < s->n_segments && n < max_count; i++) {
                const Segment *seg = &s->segments[i];

                if (seg->id < pos.segment)
                        continue;
                if (seg->id > pos.segment)
                        pos = (SpoolPos){seg->id, 0};
                while (n < max_count) {
                        RawRecord rec = {};
                        uint64_t off = pos.offset;
                        EventRecord *er;

                        r = segment_next(s, seg, &off, &rec, true);
                        if (r < 0)
                                return r;
                        if (r == 0) {
                                pos.offset = off;
                                break;
                        }
                        if (n > 0 && ret->bytes + rec.length > max_bytes) {
                                free(rec.data);
                                goto done;
                        }
                        er = event_record_new(rec.seq, rec.data, rec.length, 0);
                        free(rec.data);
                        if (!er || event_batch_push(ret, er) < 0) {
                                free(er);
                                return -ENOMEM;
                        }
                        pos.offset = off;
                        n++;
                }
        }
done:
        s->pending = pos;
        if (n == 0 && pos_cmp(pos, s->cursor) > 0) {
                /* Only damage was left: consume it so it is not counted again. */
                r = spool_ack(s);
                if (r < 0)
                        return r;
        }
        return (int)n;
}

int spool_ack(Spool *s)
{
        int r;

        if (pos_cmp(s->pending, s->cursor) <= 0)
                return 0;
        s->cursor = s->pending;
        r = cursor_normalize(s);
        if (r < 0)
                return r;
        s->pending = s->cursor;
        return cursor_store(s);
}

bool spool_is_empty(const Spool *s)
{
        for (size_t i = 0; i < s->n_segments; i++) {
                const Segment *seg = &s->segments[i];

                if (seg->id > s->cursor.segment && seg->size > 0)
                        return false;
                if (seg->id == s->cursor.segment && seg->size > s->cursor.offset)
                        return false;
        }
        return true;
}

void spool_get_stats(const Spool *s, SpoolStats *ret)
{
        uint64_t pending = 0;

        for (size_t i = 0; i < s->n_segments; i++) {
                const Segment *seg = &s->segments[i];

                if (seg->id > s->cursor.segment)
                        pending += seg->size;
                else if (seg->id == s->cursor.segment && seg->size > s->cursor.offset)
                        pending += seg->size - s->cursor.offset;
        }
        *ret = s->stats;
        ret->pending_bytes = pending;
        ret->segments = (unsigned)s->n_segments;
}
