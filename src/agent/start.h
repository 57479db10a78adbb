#pragma once
/* `linuxguard start`. */

int run_start(int argc, char **argv);
