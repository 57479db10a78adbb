#pragma once
/* SHA-256 as lowercase hex, the form used for workload ids and the TLS cache tag. */

#include <stddef.h>

#define SHA256_HEX_SIZE 65

int sha256_hex(const void *data, size_t size, char ret[static SHA256_HEX_SIZE]);
/* Hashes the concatenation of parts[0..n): avoids building a temporary that would hold a secret. */
int sha256_hex_parts(const char *const *parts, size_t n, char ret[static SHA256_HEX_SIZE]);
int hexdecode_exact(const char *hex, void *ret, size_t size);
