/* test-rng.c: torch.randn from torch's CPU generator, bit for bit, against
 * tests/data/torch-randn.safetensors (written by tests/tools/
 * make-rng-fixture.py with Debian's torch 1.13 on an AVX-512 machine, which
 * runs torch's AVX2 kernel). */
#include "config.h"

#include <glib.h>
#include <string.h>

#include "linfusion.h"

#include "lf-test.h"
#include "rng.h"
#include "safetensors.h"

static LfSafetensors *
open_fixture (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *path = lf_test_data_path ("torch-randn.safetensors");
  LfSafetensors   *st = lf_safetensors_open (path, &error);

  g_assert_no_error (error);
  return st;
}

static void
assert_bits_equal (const char *name, const float *got, const LfStTensor *ref)
{
  const float  *want = ref->data;
  const int64_t n = lf_st_tensor_numel (ref);

  for (int64_t i = 0; i < n; i++)
    if (memcmp (&got[i], &want[i], sizeof (float)) != 0)
      {
        g_test_fail_printf ("%s[%" G_GINT64_FORMAT "]: got %.9g, torch %.9g",
                            name, i, (double)got[i], (double)want[i]);
        return;
      }
}

/* Names are randn_<seed>_<shape joined by x>. */
static void
test_seeds_and_shapes (void)
{
  g_autoptr (LfSafetensors) st = open_fixture ();
  guint checked = 0;

  for (guint i = 0; i < lf_safetensors_get_n_tensors (st); i++)
    {
      const LfStTensor *t = lf_safetensors_get_tensor (st, i);
      g_auto (GStrv) parts = g_strsplit (t->name, "_", 3);
      g_autofree float *got = NULL;
      LfTorchRng        rng;
      int64_t           n = lf_st_tensor_numel (t);

      if (!g_str_equal (parts[0], "randn"))
        continue;
      got = g_new (float, n);
      lf_torch_rng_init (&rng, g_ascii_strtoull (parts[1], NULL, 10),
                         LF_TORCH_RANDN_AVX2);
      lf_torch_rng_randn (&rng, got, n);
      assert_bits_equal (t->name, got, t);
      checked++;
    }
  g_assert_cmpuint (checked, ==, 9);
}

static void
test_stream_continues (void)
{
  g_autoptr (LfSafetensors) st = open_fixture ();
  const char *names[] = { "stream_7_a_5", "stream_7_b_40", "stream_7_c_3" };
  LfTorchRng  rng;

  lf_torch_rng_init (&rng, 7, LF_TORCH_RANDN_AVX2);
  for (guint i = 0; i < G_N_ELEMENTS (names); i++)
    {
      const LfStTensor *t = lf_safetensors_lookup (st, names[i]);
      g_autofree float *got = NULL;

      g_assert_nonnull (t);
      got = g_new (float, lf_st_tensor_numel (t));
      lf_torch_rng_randn (&rng, got, lf_st_tensor_numel (t));
      assert_bits_equal (names[i], got, t);
    }
}

/* The scalar kernel differs from the AVX2 one only in the last bits, and
 * below 16 elements both take torch's double path. */
static void
test_scalar_variant_close (void)
{
  g_autoptr (LfSafetensors) st = open_fixture ();
  const LfStTensor *t = lf_safetensors_lookup (st, "randn_12345_2x4x64x64");
  const float      *want;
  g_autofree float *got = NULL;
  LfTorchRng        rng;
  int64_t           n, differ = 0;

  g_assert_nonnull (t);
  want = t->data;
  n = lf_st_tensor_numel (t);
  got = g_new (float, n);
  lf_torch_rng_init (&rng, 12345, LF_TORCH_RANDN_SCALAR);
  lf_torch_rng_randn (&rng, got, n);
  for (int64_t i = 0; i < n; i++)
    {
      g_assert_cmpfloat_with_epsilon (got[i], want[i], 4e-6);
      differ += got[i] != want[i];
    }
  g_assert_cmpint (differ, >, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/rng/torch-randn/seeds-and-shapes", test_seeds_and_shapes);
  g_test_add_func ("/rng/torch-randn/stream", test_stream_continues);
  g_test_add_func ("/rng/torch-randn/scalar-variant",
                   test_scalar_variant_close);
  return g_test_run ();
}
