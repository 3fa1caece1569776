// Write-back regression: log rotation (`log` -> `log.1` over the previous `log.1`, then a new `log`) keeps the
// old log.
// before: log=old
// before: log.1=older
// after: log=new
// after: log.1=old
// status: 0
#include <stdio.h>

int main(void) {
    if (rename("/d/log", "/d/log.1") != 0) return 1;
    FILE *f = fopen("/d/log", "w");
    if (!f) return 2;
    fputs("new", f);
    return fclose(f) == 0 ? 0 : 3;
}
