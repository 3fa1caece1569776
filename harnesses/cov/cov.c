// The coverage report's test target (tests/tests/cov.rs): an input starting with `Z` takes one branch, any other
// input the other; every `a` of the input calls saw_a once. The tests find lines by their COV-… markers.
#include <stddef.h>
#include <stdint.h>

int a_count;
int sum;

__attribute__((noinline)) void saw_a(void) {
  a_count++; // COV-SAW-A
}

__attribute__((noinline)) int rare(const uint8_t *data, size_t size) {
  int total = 0;
  for (size_t i = 0; i < size; i++)
    total += data[i]; // COV-RARE-BODY
  return total;
}

__attribute__((noinline)) int common(const uint8_t *data, size_t size) {
  int n = 0;
  for (size_t i = 0; i < size; i++) {
    if (data[i] == 'a') {
      saw_a(); // COV-CALL-SAW-A
      n++;
    }
  }
  return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size > 0 && data[0] == 'Z') {
    sum += rare(data, size); // COV-NOT-REACHED
  } else {
    sum += common(data, size); // COV-REACHED
  }
  return 0;
}
