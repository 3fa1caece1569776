/* Ways a program ends: `exit N` exits with N (through proc_exit), `return N` returns N from main, `trap` executes
 * unreachable, `abort` calls abort(). Without one of these it returns 0. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    static const char *modes[] = {"exit", "return", "trap", "abort"};
    int known = 0;
    for (int i = 0; i < 4; i++) known |= argc > 1 && strcmp(argv[1], modes[i]) == 0;
    if (!known) return 0;
    fputs("before the end\n", stdout);
    fflush(stdout);
    if (strcmp(argv[1], "exit") == 0 && argc > 2) exit(atoi(argv[2]));
    if (strcmp(argv[1], "return") == 0 && argc > 2) return atoi(argv[2]);
    if (strcmp(argv[1], "trap") == 0) __builtin_trap();
    if (strcmp(argv[1], "abort") == 0) abort();
    fputs("unknown mode\n", stderr);
    return 2;
}
