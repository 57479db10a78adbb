#pragma once
/* Fault injection for tests: counters in DIR/faults.json, re-read and consumed on every request. */

#include <stdbool.h>
#include <stdint.h>

typedef struct Faults {
        unsigned fail503;        /* answer 503 to the next N requests */
        uint64_t retry_after;    /* ... with "Retry-After: N" (default 1; 10^12 for a hostile one) */
        unsigned delay_ms;       /* delay every response by N ms (not a counter) */
        unsigned cut_connection; /* cut the next N responses mid-body */
        unsigned malformed_json; /* garble the body of the next N responses */
        unsigned huge_body;      /* answer the next N with a 50 MB body (Content-Length set) */
        unsigned endless_body;   /* answer the next N with a chunked body that never ends */
        char *path;              /* only requests to this path count; NULL: all */
} Faults;

/* What to do with one request. */
typedef struct FaultPlan {
        bool fail503;
        uint64_t retry_after;
        unsigned delay_ms;
        bool cut_connection;
        bool malformed_json;
        bool huge_body;
        bool endless_body;
} FaultPlan;

#define FAULT_HUGE_BODY_SIZE (50u * 1024 * 1024)

void faults_done(Faults *f);
/* A missing file is no faults. -EBADMSG if it is not a JSON object. */
int faults_load(const char *file, Faults *ret);
int faults_save(const char *file, const Faults *f);

/* Pure: decides the plan for a request to `path` and decrements the counters it uses. Returns true if
 * a counter changed (the caller writes the file back). */
bool faults_consume(Faults *f, const char *path, FaultPlan *ret);

/* faults_load() + faults_consume() + faults_save() on DIR/faults.json. */
int faults_take(const char *state_dir, const char *path, FaultPlan *ret);
