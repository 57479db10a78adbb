#pragma once
/* The HTTPS listener: libmicrohttpd + GnuTLS, mTLS checked per request, fault knobs applied. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MAX_BODY_DEFAULT ((size_t)16 * 1024 * 1024)

typedef struct ServerConfig {
        const char *state_dir;
        const char *listen;     /* numeric IPv4 or IPv6 address */
        uint16_t port;          /* 0: the kernel picks one */
        const char *ready_file; /* may be NULL */
        uint64_t cert_validity;
        uint64_t totp_step;
        size_t max_body;        /* request bodies, before and after inflating */
        bool serve_other_ca;    /* present a server certificate of an unrelated CA */
        const char *serve_cert; /* "expired" or "other-name": a bad certificate of our own CA; NULL */
} ServerConfig;

/* Serves until SIGTERM or SIGINT. */
int server_run(const ServerConfig *cfg);
