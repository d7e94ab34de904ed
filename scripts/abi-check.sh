#!/usr/bin/env bash
# Checks flowdb's C ABI against the baseline of its ABI version, committed in abi/:
#   abi/flowdb-<soversion>.symbols       the symbols the shared library exports, with
#                                        their version (nm -D), sorted
#   abi/flowdb-<soversion>.declarations  include/flowdb.h normalised: each function's
#                                        prototype (parameter types, no names), each
#                                        struct's fields, each enumerator's value,
#                                        each typedef
# (<soversion> is MAJOR.MINOR while MAJOR is 0, as in libflowdb.so.0.7.)
#
#   scripts/abi-check.sh [--so LIB] [--header H]   check; LIB defaults to
#                                                  build/lib/libflowdb.so.X.Y.Z
#   scripts/abi-check.sh --update [--so LIB]       rewrite the baseline from LIB and H
#
# It fails when a baseline symbol is gone (or changed version), a baseline
# declaration is gone or changed, or a function is declared but not exported (or the
# reverse). Additions are fine and are listed. A change of spelling only that keeps
# the ABI on every supported platform passes and is listed: size_t for uintptr_t
# (ptrdiff_t for intptr_t), an enum type for int32_t, and fields added at the end of
# a struct that starts with `size_t struct_size` (flowdb_stats_t). Preprocessor
# macros are not part of the check. docs/install.md, "ABI policy".
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
header="$root/include/flowdb.h"
so=""
update=0
while [ $# -gt 0 ]; do
  case "$1" in
    --update) update=1 ;;
    --so) so="$2"; shift ;;
    --header) header="$2"; shift ;;
    -h|--help) sed -n '2,24p' "$0"; exit 0 ;;
    *) echo "abi-check: unknown argument $1 (see --help)" >&2; exit 2 ;;
  esac
  shift
done

part() { sed -n "s/^#define FLOWDB_VERSION_$1 \([0-9][0-9]*\).*/\1/p" "$header"; }
major=$(part MAJOR) minor=$(part MINOR) patch=$(part PATCH)
[ -n "$major" ] && [ -n "$minor" ] && [ -n "$patch" ] || { echo "abi-check: no FLOWDB_VERSION_* in $header" >&2; exit 2; }
if [ "$major" = 0 ]; then sov="$major.$minor"; else sov="$major"; fi
[ -n "$so" ] || so="$root/build/lib/libflowdb.so.$major.$minor.$patch"
[ -f "$so" ] || { echo "abi-check: no $so (build flowdb first, or give --so)" >&2; exit 2; }

symbols=$(mktemp)
trap 'rm -f "$symbols"' EXIT
nm -D --defined-only --with-symbol-versions "$so" | awk '$NF ~ /^flowdb_/ {print $NF}' | LC_ALL=C sort >"$symbols"

python3 - "$header" "$symbols" "$root/abi/flowdb-$sov" "$sov" "$update" <<'PY'
import os, re, sys

header_path, symbols_path, base, sov, update = sys.argv[1:6]
update = update == "1"

# --- the header, normalised ------------------------------------------------------
TOKEN = re.compile(r"""
   (?P<ws>\s+)
 | (?P<comment>/\*.*?\*/|//[^\n]*)
 | (?P<pp>^[ \t]*\#(?:\\\n|[^\n])*)
 | (?P<str>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*')
 | (?P<id>[A-Za-z_]\w*)
 | (?P<num>\d[\w.]*)
 | (?P<punct>\.\.\.|.)
""", re.S | re.M | re.X)
TYPE_WORDS = {"void", "char", "short", "int", "long", "signed", "unsigned", "float",
              "double", "bool", "_Bool", "const", "volatile", "restrict"}
ATTRIBUTES = {"__attribute__", "__declspec", "__extension__"}

def tokens(text):
    out = []
    for m in TOKEN.finditer(text):
        if m.lastgroup not in ("ws", "comment", "pp"):
            out.append(m.group())
    return out

def is_ident(t):
    return re.fullmatch(r"[A-Za-z_]\w*", t) is not None

def skip_parens(toks, i):
    """toks[i] is '(': the index after its matching ')'."""
    depth = 0
    while i < len(toks):
        depth += {"(": 1, ")": -1}.get(toks[i], 0)
        i += 1
        if depth == 0:
            return i
    return i

def statements(toks):
    """Top-level declarations, without extern "C" blocks, attributes and macros
    used as attributes (FLOWDB_DEPRECATED("...") and the like)."""
    out, cur, depth, extern_blocks, i = [], [], 0, 0, 0
    while i < len(toks):
        t = toks[i]
        if t == "extern" and i + 2 < len(toks) and toks[i + 1].startswith('"') and toks[i + 2] == "{":
            extern_blocks += 1
            i += 3
            continue
        if t == "extern":
            i += 1
            continue
        if t == "}" and depth == 0 and extern_blocks:
            extern_blocks -= 1
            i += 1
            continue
        if t in ATTRIBUTES or (not cur and re.fullmatch(r"[A-Z][A-Z0-9_]*", t)
                               and i + 1 < len(toks) and (toks[i + 1] == "(" or is_ident(toks[i + 1]))):
            i += 1
            if i < len(toks) and toks[i] == "(":
                i = skip_parens(toks, i)
            continue
        if t == "{":
            depth += 1
        elif t == "}":
            depth -= 1
        if t == ";" and depth == 0:
            if cur:
                out.append(cur)
            cur = []
        else:
            cur.append(t)
        i += 1
    return out

def render(toks):
    s = " ".join(toks)
    for a, b in ((r" \*", "*"), (r"\( ", "("), (r" \)", ")"), (r" ,", ","), (r" \[", "["),
                 (r"\[ ", "["), (r" \]", "]")):
        s = re.sub(a, b, s)
    return s

def split_top(toks, sep):
    parts, cur, depth = [], [], 0
    for t in toks:
        if t in "([{":
            depth += 1
        elif t in ")]}":
            depth -= 1
        if t == sep and depth == 0:
            parts.append(cur)
            cur = []
        else:
            cur.append(t)
    if cur:
        parts.append(cur)
    return parts

def param_type(p):
    """A parameter's type: its name dropped (names are not part of the ABI)."""
    if "(" in p:  # a function pointer: (*name)(...)
        for j in range(len(p) - 3):
            if p[j] == "(" and p[j + 1] == "*" and is_ident(p[j + 2]) and p[j + 3] == ")":
                return render(p[:j + 2] + p[j + 3:])
        return render(p)
    if p and p[-1] == "]" and "[" in p:
        j = p.index("[")
        if j > 1 and is_ident(p[j - 1]) and p[j - 1] not in TYPE_WORDS:
            return render(p[:j - 1] + p[j:])
        return render(p)
    if len(p) >= 2 and is_ident(p[-1]) and p[-1] not in TYPE_WORDS and p[-2] not in ("struct", "enum", "union"):
        return render(p[:-1])
    return render(p)

def params(toks):
    return "(" + ", ".join(param_type(p) for p in split_top(toks, ",")) + ")"

def matching(toks, i, open_, close):
    depth = 0
    for j in range(i, len(toks)):
        depth += {open_: 1, close: -1}.get(toks[j], 0)
        if depth == 0:
            return j
    raise SystemExit(f"abi-check: unbalanced {open_} in {render(toks)}")

def declarations(text):
    decls = {}
    def add(key, value):
        decls[key] = value
    for st in statements(tokens(text)):
        typedef = st[0] == "typedef"
        body = st[1:] if typedef else st
        if body[0] in ("struct", "union", "enum") and "{" in body:
            kind = body[0]
            b = body.index("{")
            e = matching(body, b, "{", "}")
            name = body[1] if b > 1 else body[e + 1]
            inner = body[b + 1:e]
            if kind == "enum":
                add(f"enum {name}", "enum")
                value = None
                for item in split_top(inner, ","):
                    if "=" in item:
                        value = render(item[item.index("=") + 1:])
                    elif value is None:
                        value = "0"
                    else:
                        value = str(int(value) + 1) if re.fullmatch(r"-?\d+", value) else f"{value} + 1"
                    add(f"enumerator {item[0]}", f"{value} (enum {name})")
            else:
                fields = [render(f) for f in split_top(inner, ";")]
                add(f"{kind} {name}", "{ " + "; ".join(fields) + "; }")
        elif typedef and body[0] in ("struct", "union", "enum") and len(body) == 3:
            add(f"{body[0]} {body[1]}", "opaque")
        elif typedef and "(" in body:  # a function pointer type: ret (*name)(params)
            j = body.index("(")
            name = body[j + 2]
            close = matching(body, j, "(", ")")
            add(f"typedef {name}", f"{render(body[:j])} (*{name}){params(body[close + 2:-1])}")
        elif typedef:
            add(f"typedef {body[-1]}", render(body[:-1]))
        elif "(" in body:
            j = body.index("(")
            name = body[j - 1]
            close = matching(body, j, "(", ")")
            if close != len(body) - 1:
                raise SystemExit(f"abi-check: cannot read the declaration {render(body)}")
            add(f"function {name}", f"{render(body[:j - 1])} {name}{params(body[j + 1:close])}")
        else:
            add(f"variable {body[-1]}", render(body))
    return decls

# --- equivalences ----------------------------------------------------------------
def abi_form(value):
    """The same type on every supported platform (LP64 and ILP32 Linux)."""
    value = re.sub(r"\bsize_t\b", "uintptr_t", value)
    value = re.sub(r"\b(ptrdiff_t|ssize_t)\b", "intptr_t", value)
    value = re.sub(r"\benum \w+", "int32_t", value)
    return re.sub(r"\b_Bool\b", "bool", value)

def fields(value):
    # The last field keeps its ';' after the split: stripped, so that a field added
    # after it compares the old last field as it is.
    return [f.rstrip(";") for f in value.strip("{} ").split("; ") if f] if value.startswith("{") else None

def compatible(key, old, new):
    if abi_form(old) == abi_form(new):
        return "same ABI, spelled differently"
    of, nf = fields(old), fields(new)
    if of and nf and abi_form(of[0]) == "uintptr_t struct_size" and \
            [abi_form(f) for f in nf[:len(of)]] == [abi_form(f) for f in of]:
        return "fields added at the end (the struct carries struct_size)"
    return None

# --- compare ---------------------------------------------------------------------
with open(header_path) as f:
    decls = declarations(f.read())
with open(symbols_path) as f:
    syms = [l.strip() for l in f if l.strip()]

# The header and the library must agree, baseline or not.
mismatch = []
names = {s.split("@")[0] for s in syms}
declared = {k.split(" ", 1)[1] for k in decls if k.startswith("function ")}
for n in sorted(declared - names):
    mismatch.append(f"declared in the header, not exported: {n}")
for n in sorted(names - declared):
    mismatch.append(f"exported, not declared in the header: {n}")
for s in syms:
    if not s.endswith(f"@@FLOWDB_{sov}"):
        mismatch.append(f"not in the version node FLOWDB_{sov}: {s}")
failures, notes = list(mismatch), []

def read_baseline(path):
    with open(path) as f:
        return [l.rstrip("\n") for l in f if l.strip() and not l.startswith("#")]

sym_file, decl_file = base + ".symbols", base + ".declarations"
if os.path.exists(sym_file) and os.path.exists(decl_file):
    old_syms = read_baseline(sym_file)
    old_decls = dict(l.split(": ", 1) for l in read_baseline(decl_file))
    for s in old_syms:
        if s not in syms:
            failures.append(f"symbol removed (or its version changed): {s}")
    for s in syms:
        if s not in old_syms:
            notes.append(f"symbol added: {s}")
    for k, v in old_decls.items():
        if k not in decls:
            failures.append(f"{k} removed (was: {v})")
        elif decls[k] != v:
            why = compatible(k, v, decls[k])
            (notes if why else failures).append(
                f"{k} changed{': ' + why if why else ''}\n      was: {v}\n      now: {decls[k]}")
    for k in decls:
        if k not in old_decls:
            notes.append(f"{k} added: {decls[k]}")
elif not update:
    failures.append(f"no baseline {sym_file} / {decl_file}: a new ABI version? "
                    "Create it with scripts/abi-check.sh --update")

root = os.path.dirname(os.path.dirname(base))
rel = lambda p: os.path.relpath(p, root)
print(f"abi-check: flowdb ABI {sov}, {len(syms)} symbols, {len(decls)} declarations, "
      f"against {rel(base)}.{{symbols,declarations}}")
for n in notes:
    print(f"  {n}")
if update and mismatch:
    for f in mismatch:
        print(f"  FAIL: {f}")
    print("abi-check: the header and the library disagree; baseline not written")
    sys.exit(1)
if update:
    for f in failures:
        print(f"  was failing: {f}")
    os.makedirs(os.path.dirname(base), exist_ok=True)
    with open(sym_file, "w") as f:
        f.write(f"# The symbols libflowdb.so.{sov} exports (nm -D), sorted: the ABI {sov} baseline.\n"
                "# Written by scripts/abi-check.sh --update; checked by it (ctest abi_check).\n")
        f.writelines(s + "\n" for s in syms)
    with open(decl_file, "w") as f:
        f.write(f"# include/flowdb.h, normalised by scripts/abi-check.sh: the ABI {sov} baseline.\n"
                "# <kind> <name>: prototype without parameter names | struct fields | enumerator value.\n"
                "# Written by scripts/abi-check.sh --update; checked by it (ctest abi_check).\n")
        f.writelines(f"{k}: {v}\n" for k, v in sorted(decls.items()))
    print(f"abi-check: baseline written ({rel(sym_file)}, {rel(decl_file)})")
    sys.exit(0)
for f in failures:
    print(f"  FAIL: {f}")
print("abi-check: " + ("FAILED" if failures else "OK") + (f" ({len(notes)} compatible changes or additions)" if notes else ""))
sys.exit(1 if failures else 0)
PY
