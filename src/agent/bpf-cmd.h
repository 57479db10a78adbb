#pragma once
/* `linuxguard bpf load|unload|status`: the pinned loader, for hosts. */

/* Exit statuses: 0 done (load: loaded or already loaded by this build; unload: removed or nothing pinned;
 * status: a set from this build is pinned), 1 failure or a set from another build, 2 usage. */
int run_bpf(int argc, char **argv);
