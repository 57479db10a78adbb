#include "log.h"
int main(int argc, char **argv)
{
        log_info("hello");
        return 0;
}
