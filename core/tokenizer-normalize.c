/* tokenizer-normalize.c: the text clean-up of transformers' CLIPTokenizer
 * when ftfy is absent (as diffusers runs it): BasicTokenizer(strip_accents=
 * False, do_split_on_punc=False).tokenize joined with spaces, from
 * transformers models/clip/tokenization_clip.py and tokenization_utils.py.
 */
#include "config.h"

#include <string.h>

#include "tokenizer-private.h"

/* BasicTokenizer._is_chinese_char: the CJK ideograph blocks BERT spaces out
 * (not kana, not Hangul). */
static gboolean
is_cjk_ideograph (gunichar c)
{
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF)
         || (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F)
         || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF)
         || (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

/* _is_control: every category C* except the three whitespace controls,
 * so format characters (ZWJ, soft hyphen, BOM) and unassigned code points
 * are dropped too. */
static gboolean
is_control (gunichar c)
{
  switch (g_unichar_type (c))
    {
    case G_UNICODE_CONTROL:
    case G_UNICODE_FORMAT:
    case G_UNICODE_UNASSIGNED:
    case G_UNICODE_PRIVATE_USE:
    case G_UNICODE_SURROGATE:
      return c != '\t' && c != '\n' && c != '\r';
    default:
      return FALSE;
    }
}

/* _is_whitespace (space, \t, \n, \r, Zs), plus Zl and Zp, which
 * _clean_text keeps but Python's str.split then splits on. */
static gboolean
is_space (gunichar c)
{
  GUnicodeType t;

  if (c == ' ' || c == '\t' || c == '\n' || c == '\r')
    return TRUE;
  t = g_unichar_type (c);
  return t == G_UNICODE_SPACE_SEPARATOR || t == G_UNICODE_LINE_SEPARATOR
         || t == G_UNICODE_PARAGRAPH_SEPARATOR;
}

/* _clean_text and _tokenize_chinese_chars in one pass. */
static char *
clean_text (const char *text, gssize len)
{
  const char *end = text + (len < 0 ? (gssize)strlen (text) : len);
  GString    *out = g_string_sized_new (end - text + 16);

  for (const char *p = text; p < end; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == 0 || c == 0xFFFD || is_control (c))
        continue;
      if (is_space (c))
        g_string_append_c (out, ' ');
      else if (is_cjk_ideograph (c))
        {
          g_string_append_c (out, ' ');
          g_string_append_unichar (out, c);
          g_string_append_c (out, ' ');
        }
      else
        g_string_append_unichar (out, c);
    }
  return g_string_free (out, FALSE);
}

/* Unicode Case_Ignorable: Mn, Me, Cf, Lm, Sk and the Word_Break
 * MidLetter, MidNumLet and Single_Quote characters. */
static gboolean
is_case_ignorable (gunichar c)
{
  static const gunichar mid[]
      = { 0x27,   0x2E,   0x3A,   0xB7,   0x387,  0x55F,
          0x5F4,  0x2018, 0x2019, 0x2024, 0x2027, 0xFE13,
          0xFE52, 0xFE55, 0xFF07, 0xFF0E, 0xFF1A };

  switch (g_unichar_type (c))
    {
    case G_UNICODE_NON_SPACING_MARK:
    case G_UNICODE_ENCLOSING_MARK:
    case G_UNICODE_FORMAT:
    case G_UNICODE_MODIFIER_LETTER:
    case G_UNICODE_MODIFIER_SYMBOL:
      return TRUE;
    default:
      break;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (mid); i++)
    if (c == mid[i])
      return TRUE;
  return FALSE;
}

/* Unicode Cased: Lu, Ll, Lt and the Other_Lowercase / Other_Uppercase
 * characters that are not also case-ignorable. */
static gboolean
is_cased (gunichar c)
{
  switch (g_unichar_type (c))
    {
    case G_UNICODE_UPPERCASE_LETTER:
    case G_UNICODE_LOWERCASE_LETTER:
    case G_UNICODE_TITLECASE_LETTER:
      return TRUE;
    default:
      return c == 0xAA || c == 0xBA || (c >= 0x2160 && c <= 0x217F)
             || (c >= 0x24B6 && c <= 0x24E9) || (c >= 0x1F130 && c <= 0x1F189);
    }
}

/* Python's handle_capital_sigma: Σ is final (ς) when a cased letter
 * precedes it and none follows, case-ignorable characters skipped. */
static gunichar
lower_sigma (const gunichar *s, glong n, glong i)
{
  glong j;

  for (j = i - 1; j >= 0 && is_case_ignorable (s[j]); j--)
    ;
  if (j < 0 || !is_cased (s[j]))
    return 0x3C3;
  for (j = i + 1; j < n && is_case_ignorable (s[j]); j++)
    ;
  return (j == n || !is_cased (s[j])) ? 0x3C2 : 0x3C3;
}

/* The simple lowercase mapping. GLib maps only Lu and Lt; Python also maps
 * the Roman numerals (Nl) and circled capitals (So). */
static gunichar
lower_simple (gunichar c)
{
  if (c >= 0x2160 && c <= 0x216F)
    return c + 0x10;
  if (c >= 0x24B6 && c <= 0x24CF)
    return c + 26;
  return g_unichar_tolower (c);
}

/* Python's str.lower: the simple mappings plus U+0130 → "i̇" and the
 * Final_Sigma rule. */
static char *
python_lower (const char *text, gssize len)
{
  glong                n = 0;
  g_autofree gunichar *s = g_utf8_to_ucs4_fast (text, len, &n);
  GString             *out = g_string_sized_new (len < 0 ? 16 : len + 16);

  /* Not g_utf8_strdown: it follows the process locale (Turkish i) and
   * treats a lone Σ as final, where Python does not. */
  for (glong i = 0; i < n; i++)
    {
      if (s[i] == 0x130)
        g_string_append (out, "i\xcc\x87");
      else if (s[i] == 0x3A3)
        g_string_append_unichar (out, lower_sigma (s, n, i));
      else
        g_string_append_unichar (out, lower_simple (s[i]));
    }
  return g_string_free (out, FALSE);
}

/* Python's " ".join (text.split ()) once only spaces are left. */
static char *
collapse_spaces (const char *text)
{
  GString *out = g_string_sized_new (strlen (text) + 1);

  for (const char *p = text; *p != '\0'; p++)
    {
      if (*p == ' ' && (out->len == 0 || out->str[out->len - 1] == ' '))
        continue;
      g_string_append_c (out, *p);
    }
  if (out->len > 0 && out->str[out->len - 1] == ' ')
    g_string_truncate (out, out->len - 1);
  return g_string_free (out, FALSE);
}

char *
lf_tokenizer_normalize (const char *text, gssize len)
{
  g_autofree char *clean = clean_text (text, len);
  g_autofree char *nfc = g_utf8_normalize (clean, -1, G_NORMALIZE_NFC);
  g_autofree char *lower = python_lower (nfc, -1);

  return collapse_spaces (lower);
}
