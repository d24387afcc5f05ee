/* linfusion.c: LinFusion's GeneralizedLinearAttention, the module that
 * replaces every attn1 of the UNet. Mirrors Huage001/LinFusion
 * src/linfusion/attention.py (forward, get_none_linear_projection) and
 * src/linfusion/linfusion.py (config modules_list, keys "<i>.<param>").
 */
#include "config.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "linfusion.h"

#include "unet-private.h"

#define MLP_LEAKY_SLOPE 0.01f /* torch.nn.LeakyReLU default */
#define MLP_LN_EPS      1e-5f
#define LINFUSION_EPS   1e-4f /* official code; the Triton port uses 1e-6 */

/* Symbolic sizes of the key table. */
enum
{
  DIM_C = -1,
  DIM_M = -2,
};

#define KEY(suffix, member, ndim, ...)                                         \
  {                                                                            \
    suffix, offsetof (LinfusionModule, member), ndim,                          \
    {                                                                          \
      __VA_ARGS__                                                              \
    }                                                                          \
  }

/* clang-format off */
static const UnetKey module_keys[] = {
  KEY ("to_q.weight",      to_q,           2, DIM_C, DIM_C),
  KEY ("to_k.weight",      to_k,           2, DIM_C, DIM_C),
  KEY ("to_v.weight",      to_v,           2, DIM_C, DIM_C),
  KEY ("to_out.0.weight",  out_w,          2, DIM_C, DIM_C),
  KEY ("to_out.0.bias",    out_b,          1, DIM_C),
  KEY ("to_q_.0.weight",   mlp_q.in_w,     2, DIM_M, DIM_C),
  KEY ("to_q_.0.bias",     mlp_q.in_b,     1, DIM_M),
  KEY ("to_q_.1.weight",   mlp_q.ln_gamma, 1, DIM_M),
  KEY ("to_q_.1.bias",     mlp_q.ln_beta,  1, DIM_M),
  KEY ("to_q_.3.weight",   mlp_q.out_w,    2, DIM_C, DIM_M),
  KEY ("to_q_.3.bias",     mlp_q.out_b,    1, DIM_C),
  KEY ("to_k_.0.weight",   mlp_k.in_w,     2, DIM_M, DIM_C),
  KEY ("to_k_.0.bias",     mlp_k.in_b,     1, DIM_M),
  KEY ("to_k_.1.weight",   mlp_k.ln_gamma, 1, DIM_M),
  KEY ("to_k_.1.bias",     mlp_k.ln_beta,  1, DIM_M),
  KEY ("to_k_.3.weight",   mlp_k.out_w,    2, DIM_C, DIM_M),
  KEY ("to_k_.3.bias",     mlp_k.out_b,    1, DIM_C),
};
/* clang-format on */

void
lf_linfusion_free (Linfusion *lf)
{
  if (lf == NULL)
    return;
  for (int i = 0; i < lf->n_modules; i++)
    g_free (lf->modules[i].module_name);
  g_free (lf->modules);
  lf_weight_store_free (lf->store);
  g_free (lf);
}

/* One modules_list entry: {module_name, dim_n, heads, projection_mid_dim}. */
static gboolean
parse_module (const LfConfig  *cfg,
              JsonNode        *node,
              int              index,
              LinfusionModule *m,
              GError         **error)
{
  JsonObject *obj;
  const char *name;
  GError     *local = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("%s: modules_list[%d] is not an object"),
                   lf_config_get_name (cfg), index);
      return FALSE;
    }
  obj = json_node_get_object (node);
  name = lf_config_object_get_string (cfg, obj, "module_name", NULL, &local);
  m->dim = lf_config_object_get_int (cfg, obj, "dim_n", 0, &local);
  m->heads = lf_config_object_get_int (cfg, obj, "heads", 0, &local);
  m->mid = lf_config_object_get_int (cfg, obj, "projection_mid_dim", 0, &local);
  if (local != NULL)
    {
      g_propagate_prefixed_error (error, local, _ ("modules_list[%d]: "),
                                  index);
      return FALSE;
    }
  if (name == NULL || m->dim <= 0 || m->heads <= 0 || m->dim % m->heads != 0
      || m->mid < -1)
    {
      g_set_error (
          error, LF_ERROR, LF_ERROR_FORMAT,
          _ ("%s: modules_list[%d] (%s) needs a module_name, dim_n > 0 "
             "and heads dividing dim_n; got dim_n %lld, heads %lld"),
          lf_config_get_name (cfg), index, name ? name : "?", (long long)m->dim,
          (long long)m->heads);
      return FALSE;
    }
  if (m->mid == -1)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_UNSUPPORTED,
                   _ ("%s: module %s: projection_mid_dim -1 (no MLP) is not "
                      "supported"),
                   lf_config_get_name (cfg), name);
      return FALSE;
    }
  if (m->mid == 0)
    m->mid = m->dim; /* null: Linear (C, C) as upstream */
  m->module_name = g_strdup (name);
  return TRUE;
}

/* Whether @unet has an attn1 at diffusers path @name. */
static gboolean
has_attn1 (const LfUnet *unet, const char *name)
{
  for (guint i = 0; i < unet->transformers->len; i++)
    {
      const UnetTransformer *t = g_ptr_array_index (unet->transformers, i);

      for (int j = 0; j < t->depth; j++)
        {
          g_autofree char *path
              = g_strdup_printf ("%s.transformer_blocks.%d.attn1", t->name, j);

          if (strcmp (path, name) == 0)
            return TRUE;
        }
    }
  return FALSE;
}

/* With @only_in, the modules for attn1 layers @only_in lacks are neither
 * kept nor bound (a ControlNet has no up blocks: their weights would only
 * take memory). */
static Linfusion *
load (const LfComponent *comp,
      const LfConfig    *cfg,
      LfOps             *ops,
      const LfUnet      *only_in,
      GError           **error)
{
  g_autoptr (Linfusion) lf = NULL;
  JsonNode  *list;
  JsonArray *arr;

  list = cfg != NULL
             ? json_object_get_member (lf_config_get_root (cfg), "modules_list")
             : NULL;
  if (list == NULL || !JSON_NODE_HOLDS_ARRAY (list)
      || json_array_get_length (json_node_get_array (list)) == 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("%s: no modules_list in the LinFusion config"),
                   cfg != NULL ? lf_config_get_name (cfg)
                               : lf_component_get_name (comp));
      return NULL;
    }
  arr = json_node_get_array (list);
  lf = g_new0 (Linfusion, 1);
  lf->store = lf_weight_store_new (ops);
  lf->modules = g_new0 (LinfusionModule, json_array_get_length (arr));
  for (guint i = 0; i < json_array_get_length (arr); i++)
    {
      LinfusionModule *m = &lf->modules[lf->n_modules];
      const UnetLoader ld = { lf->store, comp };
      char             prefix[16];
      int64_t          d[2];

      if (!parse_module (cfg, json_array_get_element (arr, i), (int)i, m,
                         error))
        return NULL;
      if (only_in != NULL && !has_attn1 (only_in, m->module_name))
        {
          g_free (m->module_name);
          memset (m, 0, sizeof *m);
          continue;
        }
      lf->n_modules++;
      d[0] = m->dim, d[1] = m->mid;
      g_snprintf (prefix, sizeof prefix, "%u", i);
      if (!unet_bind_table (&ld, prefix, module_keys,
                            G_N_ELEMENTS (module_keys), d, m, error))
        {
          g_prefix_error (error, _ ("LinFusion module %s: "), m->module_name);
          return NULL;
        }
      lf->max_mid = MAX (lf->max_mid, m->mid);
    }
  return g_steal_pointer (&lf);
}

Linfusion *
lf_linfusion_load (const LfComponent *comp,
                   const LfConfig    *cfg,
                   LfOps             *ops,
                   GError           **error)
{
  return load (comp, cfg, ops, NULL, error);
}

/* out = x + Linear₃ (leaky_relu (LayerNorm (Linear₀ (x)))): what to_q and
 * to_k see. mid (n, M) and out (n, C) are chunk scratch. */
static void
mlp_residual (LfOps              *ops,
              const LinfusionMlp *mlp,
              const LfTensor     *x,
              LfTensor           *mid,
              LfTensor           *out)
{
  ops->linear (ops, x, &mlp->in_w, &mlp->in_b, mid);
  ops->layer_norm (ops, mid, &mlp->ln_gamma, &mlp->ln_beta, MLP_LN_EPS, mid);
  ops->leaky_relu (ops, mid, MLP_LEAKY_SLOPE, mid);
  ops->linear (ops, mid, &mlp->out_w, &mlp->out_b, out);
  ops->add (ops, out, x, out);
}

/* Q = elu (to_q (x + MLP_q (x))) + 1, K likewise, V = to_v (x); per head
 * o = Q (KᵀV / N) / (Q · mean_N K + 1e-4); y = to_out (o). The MLPs run in
 * chunks of rows; the state needs every token, so Q, K and V are whole. */
void
lf_linfusion_forward (LfOps                 *ops,
                      const LinfusionModule *m,
                      LfTensor              *x,
                      UnetAttnScratch       *s,
                      LfTensor              *y,
                      gboolean               accumulate)
{
  const int64_t C = m->dim, M = m->mid;
  const int64_t rows = lf_tensor_numel (x) / C;
  const int64_t chunk = MIN (rows, s->mlp_floats / (M + C));
  const int64_t shape[2] = { rows, C };
  LfTensor      x2, q2, k2;

  lf_tensor_reshape (x, 2, shape, &x2);
  lf_tensor_reshape (&s->q, 2, shape, &q2);
  lf_tensor_reshape (&s->k, 2, shape, &k2);
  for (int64_t r0 = 0; r0 < rows; r0 += chunk)
    {
      const int64_t n = MIN (chunk, rows - r0);
      LfTensor      mid = lf_tensor_2d (s->mlp, LF_DTYPE_F32, n, M);
      LfTensor      sum = lf_tensor_2d (s->mlp + n * M, LF_DTYPE_F32, n, C);
      LfTensor      xc, qc, kc;

      lf_tensor_narrow (&x2, 0, r0, n, &xc);
      lf_tensor_narrow (&q2, 0, r0, n, &qc);
      lf_tensor_narrow (&k2, 0, r0, n, &kc);
      mlp_residual (ops, &m->mlp_q, &xc, &mid, &sum);
      ops->linear (ops, &sum, &m->to_q, NULL, &qc);
      mlp_residual (ops, &m->mlp_k, &xc, &mid, &sum);
      ops->linear (ops, &sum, &m->to_k, NULL, &kc);
    }
  unet_linear (ops, x, &m->to_v, NULL, &s->v, FALSE);
  ops->elu_plus_one (ops, &s->q, &s->q);
  ops->elu_plus_one (ops, &s->k, &s->k);
  ops->linear_attention (ops, &s->q, &s->k, &s->v, (int)m->heads, LINFUSION_EPS,
                         x);
  unet_linear (ops, x, &m->out_w, &m->out_b, y, accumulate);
}

/* The basic block whose attn1 is at diffusers path @m->module_name, checked
 * against the module's width and heads; NULL with @error unset when there
 * is no such attn1 and @skip_absent. */
static UnetBasicBlock *
find_target (LfUnet                *unet,
             const LinfusionModule *m,
             gboolean               skip_absent,
             GError               **error)
{
  for (guint i = 0; i < unet->transformers->len; i++)
    {
      UnetTransformer *t = g_ptr_array_index (unet->transformers, i);

      for (int j = 0; j < t->depth; j++)
        {
          g_autofree char *path
              = g_strdup_printf ("%s.transformer_blocks.%d.attn1", t->name, j);

          if (strcmp (path, m->module_name) != 0)
            continue;
          if (t->channels != m->dim || t->heads != m->heads)
            {
              g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                           _ ("LinFusion module %s has dim_n %lld and %lld "
                              "heads; the UNet's attn1 there has %lld "
                              "channels and %lld heads"),
                           m->module_name, (long long)m->dim,
                           (long long)m->heads, (long long)t->channels,
                           (long long)t->heads);
              return NULL;
            }
          return &t->blocks[j];
        }
    }
  if (skip_absent)
    return NULL;
  g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
               _ ("LinFusion module %s: the UNet has no such attn1"),
               m->module_name);
  return NULL;
}

static void
clear_mounts (LfUnet *unet)
{
  for (guint i = 0; i < unet->transformers->len; i++)
    {
      UnetTransformer *t = g_ptr_array_index (unet->transformers, i);

      for (int j = 0; j < t->depth; j++)
        t->blocks[j].linfusion = NULL;
    }
}

gboolean
lf_unet_mount_linfusion_present (LfUnet            *unet,
                                 const LfComponent *linfusion,
                                 const LfConfig    *cfg,
                                 gboolean           skip_absent,
                                 GError           **error)
{
  g_autoptr (Linfusion) lf = NULL;
  g_autofree UnetBasicBlock **targets = NULL;
  int                         n_found = 0;

  g_return_val_if_fail (unet != NULL && linfusion != NULL, FALSE);
  lf = load (linfusion, cfg, unet->ops, skip_absent ? unet : NULL, error);
  if (lf == NULL)
    return FALSE;
  targets = g_new0 (UnetBasicBlock *, MAX (lf->n_modules, 1));
  for (int i = 0; i < lf->n_modules; i++)
    {
      GError *local = NULL;

      targets[i] = find_target (unet, &lf->modules[i], skip_absent, &local);
      if (local != NULL)
        {
          g_propagate_error (error, local);
          return FALSE;
        }
      if (targets[i] == NULL)
        continue;
      n_found++;
      for (int k = 0; k < i; k++)
        if (targets[k] == targets[i])
          {
            g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                         _ ("LinFusion module %s is listed twice"),
                         lf->modules[i].module_name);
            return FALSE;
          }
    }
  if (n_found == 0)
    {
      g_set_error (error, LF_ERROR, LF_ERROR_FORMAT,
                   _ ("%s: no LinFusion module names an attn1 of this "
                      "model"),
                   lf_component_get_name (linfusion));
      return FALSE;
    }
  /* Only now is the UNet touched: a failed mount leaves it as it was. */
  clear_mounts (unet);
  for (int i = 0; i < lf->n_modules; i++)
    if (targets[i] != NULL)
      targets[i]->linfusion = &lf->modules[i];
  lf_linfusion_free (unet->linfusion);
  unet->linfusion = g_steal_pointer (&lf);
  return TRUE;
}

gboolean
lf_unet_mount_linfusion (LfUnet            *unet,
                         const LfComponent *linfusion,
                         const LfConfig    *cfg,
                         GError           **error)
{
  return lf_unet_mount_linfusion_present (unet, linfusion, cfg, FALSE, error);
}

void
lf_unet_unmount_linfusion (LfUnet *unet)
{
  clear_mounts (unet);
  g_clear_pointer (&unet->linfusion, lf_linfusion_free);
}

gboolean
lf_unet_has_linfusion (const LfUnet *unet)
{
  return unet->linfusion != NULL;
}
