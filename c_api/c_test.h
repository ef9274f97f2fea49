/* Checks shared by the C ABI's tests (C11): CHECK for conditions, ok() for calls that must
 * succeed and fails() for calls that must fail with a code and a message fragment. Failures are
 * counted (atomically: the thread-safety test checks from several threads) and reported by
 * c_test_finish() as the program's exit status. Header-only, for test programs. */
#ifndef GISP_C_API_C_TEST_H_
#define GISP_C_API_C_TEST_H_

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "c_api/gisp.h"

static atomic_int c_test_failures = 0;

#define CHECK(cond)                                                            \
  do {                                                                         \
    if (!(cond)) {                                                             \
      fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      atomic_fetch_add(&c_test_failures, 1);                                   \
    }                                                                          \
  } while (0)

/* Expects success (prints the message otherwise); frees the status; returns whether it was OK. */
static inline int ok(gisp_status* s, const char* what) {
  const int good = s == NULL;
  if (!good) {
    fprintf(stderr, "%s failed: [%s] %s\n", what, gisp_code_name(gisp_status_code(s)),
            gisp_status_message(s));
    atomic_fetch_add(&c_test_failures, 1);
  }
  gisp_status_free(s);
  return good;
}

/* Expects `code` and a message that mentions `needle`; frees the status. */
static inline void fails(gisp_status* s, gisp_code code, const char* needle, const char* what) {
  if (gisp_status_code(s) != code || strstr(gisp_status_message(s), needle) == NULL) {
    fprintf(stderr, "%s: expected [%s] mentioning \"%s\", got [%s] %s\n", what,
            gisp_code_name(code), needle, gisp_code_name(gisp_status_code(s)),
            gisp_status_message(s));
    atomic_fetch_add(&c_test_failures, 1);
  }
  gisp_status_free(s);
}

/* The exit status of a test program: 0 when every check passed. */
static inline int c_test_finish(const char* what) {
  const int failures = atomic_load(&c_test_failures);
  if (failures > 0) {
    fprintf(stderr, "%d check(s) failed\n", failures);
    return 1;
  }
  printf("all %s checks passed\n", what);
  return 0;
}

#endif /* GISP_C_API_C_TEST_H_ */
