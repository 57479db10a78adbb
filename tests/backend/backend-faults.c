/* Fault knobs.
 *
 * The file is the single source of truth: `serve` flags only seed it, and a test may rewrite it while the
 * server runs. It is read on every request and written back (atomically) only when a counter was
 * consumed, so a test can watch the counters drain. 503s are decided before the request is processed,
 * so a refused enrolment leaves no trace; a cut or garbled response is applied after processing, which
 * is what makes a client's retry meet the idempotency record. */

#include "backend-faults.h"

#include "backend-state.h"

void faults_done(Faults *f)
{
        f->path = mfree(f->path);
}

static unsigned get_uint(json_object *obj, const char *key, unsigned def)
{
        json_object *v;
        int64_t n;

        if (!json_object_object_get_ex(obj, key, &v))
                return def;
        n = json_object_get_int64(v);
        return n < 0 ? 0 : n > UINT32_MAX ? UINT32_MAX : (unsigned)n;
}

static uint64_t get_u64(json_object *obj, const char *key, uint64_t def)
{
        json_object *v;
        int64_t n;

        if (!json_object_object_get_ex(obj, key, &v))
                return def;
        n = json_object_get_int64(v);
        return n < 0 ? 0 : (uint64_t)n;
}

int faults_load(const char *file, Faults *ret)
{
        _cleanup_(json_object_putp) json_object *obj = NULL;
        json_object *v;
        int r;

        *ret = (Faults){};
        r = state_json_read(file, &obj);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        *ret = (Faults){
                .fail503 = get_uint(obj, "fail503", 0),
                .retry_after = get_u64(obj, "retryAfter", 1),
                .delay_ms = get_uint(obj, "delayMs", 0),
                .cut_connection = get_uint(obj, "cutConnection", 0),
                .malformed_json = get_uint(obj, "malformedJson", 0),
                .huge_body = get_uint(obj, "hugeBody", 0),
                .endless_body = get_uint(obj, "endlessBody", 0),
        };
        if (json_object_object_get_ex(obj, "path", &v) && json_object_is_type(v, json_type_string) &&
            !isempty(json_object_get_string(v))) {
                ret->path = strdup(json_object_get_string(v));
                if (!ret->path)
                        return -ENOMEM;
        }
        return 0;
}

int faults_save(const char *file, const Faults *f)
{
        _cleanup_(json_object_putp) json_object *obj = json_object_new_object();
        const struct {
                const char *key;
                uint64_t value;
        } fields[] = {
                {"fail503", f->fail503},
                {"retryAfter", f->retry_after},
                {"delayMs", f->delay_ms},
                {"cutConnection", f->cut_connection},
                {"malformedJson", f->malformed_json},
                {"hugeBody", f->huge_body},
                {"endlessBody", f->endless_body},
        };

        if (!obj)
                return -ENOMEM;
        FOREACH_ARRAY (i, fields, ELEMENTSOF(fields))
                if (json_object_object_add(obj, i->key, json_object_new_int64((int64_t)i->value)) < 0)
                        return -ENOMEM;
        if (f->path && json_object_object_add(obj, "path", json_object_new_string(f->path)) < 0)
                return -ENOMEM;
        return state_json_write(file, obj);
}

static bool take(unsigned *counter)
{
        if (*counter == 0)
                return false;
        (*counter)--;
        return true;
}

bool faults_consume(Faults *f, const char *path, FaultPlan *ret)
{
        *ret = (FaultPlan){};
        if (f->path && !streq(f->path, path))
                return false;

        ret->delay_ms = f->delay_ms;
        ret->retry_after = f->retry_after;
        ret->fail503 = take(&f->fail503);
        if (ret->fail503)
                return true;
        ret->cut_connection = take(&f->cut_connection);
        ret->malformed_json = take(&f->malformed_json);
        ret->huge_body = take(&f->huge_body);
        ret->endless_body = take(&f->endless_body);
        return ret->cut_connection || ret->malformed_json || ret->huge_body || ret->endless_body;
}

int faults_take(const char *state_dir, const char *path, FaultPlan *ret)
{
        _cleanup_free_ char *file = state_path(state_dir, "faults.json", NULL);
        Faults f;
        int r;

        if (!file)
                return -ENOMEM;
        r = faults_load(file, &f);
        if (r < 0)
                return r;
        if (faults_consume(&f, path, ret))
                r = faults_save(file, &f);
        faults_done(&f);
        return r;
}
