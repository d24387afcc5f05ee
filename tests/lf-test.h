/* lf-test.h: helpers shared by every test program: fresh random inputs,
 * poisoned outputs, and the |got − ref| ≤ atol + rtol·|ref| comparison with a
 * report of the first mismatch and the max abs/rel error (karpathy/llm.c
 * dev/cuda/common.h validate_result). Random values come from GLib's test
 * RNG, seeded afresh each run; the seed is in the TAP output to replay with
 * --seed.
 */
#ifndef LF_TEST_H
#define LF_TEST_H

#include <glib.h>
#include <stdint.h>

#include "lf-ops.h"

G_BEGIN_DECLS

float  *lf_test_alloc_f32 (int64_t n); /* g_free */
double *lf_test_alloc_f64 (int64_t n); /* g_free */
void    lf_test_fill_uniform (float *x, int64_t n, double lo, double hi);
void    lf_test_poison (float *x, int64_t n); /* NaN everywhere */
double  lf_test_max_abs (const double *x, int64_t n);

/* Asserts |got_i − ref_i| ≤ atol + rtol·|ref_i| for all i and that got has
 * no NaN (an unwritten poisoned output). On failure prints @what, the first
 * bad index with both values, and the max abs/rel error, then fails the
 * test. */
void lf_test_assert_close (const char   *what,
                           const float  *got,
                           const double *ref,
                           int64_t       n,
                           double        rtol,
                           double        atol);

/* The usual scale-aware form: atol = rtol · max|ref| (errors of sums near
 * zero are judged against the output's magnitude). */
void lf_test_assert_close_scaled (const char   *what,
                                  const float  *got,
                                  const double *ref,
                                  int64_t       n,
                                  double        rtol);

/* A CPU op table with @n_threads threads and @scratch_bytes of scratch
 * (0: the backend's hint). Free with lf_test_cpu_ops_free. */
LfOps *lf_test_cpu_ops_new (int n_threads, size_t scratch_bytes);
void   lf_test_cpu_ops_free (LfOps *ops);

/* Asserts that no op failure was recorded, printing the message if one was. */
void lf_test_assert_ops_ok (LfOps *ops);

/* A file of tests/data/ (LF_TEST_DATA_DIR in the environment overrides the
 * source tree's folder). Returns: (transfer full). */
char *lf_test_data_path (const char *name);

/* Deletes @path and, for a folder, everything in it (links, not their
 * targets). */
void lf_test_remove_tree (const char *path);

/* The conformance set folder (LF_CONFORMANCE_DIR, else the build's
 * default), or NULL after g_test_skip() when it is absent. */
char *lf_test_conformance_dir (const char *set);

/* One run of the linfusion command (path in $LINFUSION, set by meson). */
typedef struct
{
  char *out;    /* stdout */
  char *err;    /* stderr */
  int   status; /* exit status */
} LfTestRun;

void lf_test_run_clear (LfTestRun *run);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LfTestRun, lf_test_run_clear)

/* Runs `linfusion @command ARGS…` (NULL-terminated) and asserts it exited
 * normally, not by a signal. Returns FALSE after g_test_skip () when
 * $LINFUSION is not set. */
gboolean lf_test_run_cli (LfTestRun  *run,
                          const char *command,
                          ...) G_GNUC_NULL_TERMINATED;

/* Asserts exit status 1, nothing on stdout, and exactly one stderr line
 * "linfusion @command: …" containing @needle. */
void lf_test_assert_cli_error (const LfTestRun *run,
                               const char      *command,
                               const char      *needle);

G_END_DECLS

#endif /* LF_TEST_H */
