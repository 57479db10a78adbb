#pragma once
/* The host's app-specific machine id, the input of the host workload identity. */

/* Returns a newly allocated 32-hex-digit id derived from /etc/machine-id for linuxguard only (stable per
 * host, useless for correlating hosts across products), or NULL when the machine id is unavailable. */
char *machine_app_id(void);
