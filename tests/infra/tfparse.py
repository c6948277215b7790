"""Reading Terraform, CQL and Compose files for the static infrastructure tests.

Terraform is parsed with python-hcl2 (the `hcl2` module, version 8), with
string quotes stripped: literals come back as Python values and every
expression as a "${...}" string, with its parentheses as written.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Iterator

import hcl2
from hcl2.utils import SerializationOptions

REPO = Path(__file__).resolve().parents[2]
INFRA = REPO / "infra"
EXAMPLES = INFRA / "examples"
EXAMPLE_NAMES = ("msk", "self-managed", "localstack")
SCHEMA_CQL = REPO / "cassandra" / "schema.cql"
COMPOSE_FILE = REPO / "docker-compose.yml"

_OPTIONS = SerializationOptions(with_comments=False, strip_string_quotes=True, explicit_blocks=True)

# Keys the parser adds to blocks.
_META_KEYS = {"__is_block__", "__start_line__", "__end_line__"}


def parse(text: str) -> dict:
    return hcl2.loads(text, serialization_options=_OPTIONS)


def attrs(block: dict) -> dict:
    """A block's attributes and nested blocks, parser metadata dropped."""
    return {k: v for k, v in block.items() if k not in _META_KEYS}


@dataclass
class Module:
    """Every top-level block of the .tf files of one directory."""

    directory: Path
    texts: dict[str, str] = field(default_factory=dict)
    variables: dict[str, dict] = field(default_factory=dict)
    outputs: dict[str, dict] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    resources: dict[tuple[str, str], dict] = field(default_factory=dict)
    data: dict[tuple[str, str], dict] = field(default_factory=dict)
    modules: dict[str, dict] = field(default_factory=dict)
    providers: dict[str, dict] = field(default_factory=dict)
    terraform: list[dict] = field(default_factory=list)

    def resources_of(self, rtype: str) -> dict[str, dict]:
        return {name: body for (t, name), body in self.resources.items() if t == rtype}

    def resource(self, rtype: str, name: str) -> dict:
        return self.resources[(rtype, name)]


def load_module(directory: Path) -> Module:
    """Parse every .tf file in `directory` (not recursively)."""
    module = Module(directory=directory)
    # Override files (such as the one tflocal writes while it runs) are
    # merged by Terraform, not part of the configuration.
    files = sorted(p for p in directory.glob("*.tf") if not p.name.endswith("override.tf"))
    assert files, f"no .tf files in {directory}"
    for path in files:
        text = path.read_text()
        module.texts[path.name] = text
        parsed = parse(text)
        for block in parsed.get("variable", []):
            for name, body in block.items():
                assert name not in module.variables, f"variable {name} declared twice"
                module.variables[name] = attrs(body)
        for block in parsed.get("output", []):
            for name, body in block.items():
                module.outputs[name] = attrs(body)
        for block in parsed.get("locals", []):
            for name, body in attrs(block).items():
                assert name not in module.locals, f"local {name} declared twice"
                module.locals[name] = body
        for kind, target in (("resource", module.resources), ("data", module.data)):
            for block in parsed.get(kind, []):
                for rtype, named in block.items():
                    for name, body in named.items():
                        target[(rtype, name)] = attrs(body)
        for block in parsed.get("module", []):
            for name, body in block.items():
                module.modules[name] = attrs(body)
        for block in parsed.get("provider", []):
            for name, body in block.items():
                module.providers[name] = attrs(body)
        module.terraform.extend(attrs(b) for b in parsed.get("terraform", []))
    return module


def all_tf_dirs() -> list[Path]:
    return [INFRA] + [EXAMPLES / name for name in EXAMPLE_NAMES]


def dynamic_blocks(body: dict, name: str) -> list[dict]:
    """The `content` of every `dynamic "<name>"` block in `body`."""
    out = []
    for entry in body.get("dynamic", []):
        if name in entry:
            for content in entry[name].get("content", []):
                out.append(attrs(content))
    return out


def dynamic_for_each(body: dict, name: str) -> list[str]:
    return [entry[name]["for_each"] for entry in body.get("dynamic", []) if name in entry]


def blocks(body: dict, name: str) -> list[dict]:
    """Static and dynamic blocks called `name`."""
    return [attrs(b) for b in body.get(name, [])] + dynamic_blocks(body, name)


@dataclass
class Statement:
    where: str
    sid: str
    actions: list[str]
    resources: list[str]


def _string_list(v: Any) -> list[str]:
    if isinstance(v, list):
        return [str(x) for x in v]
    return [str(v)]


def policy_statements(module: Module) -> Iterator[Statement]:
    """Every statement of every aws_iam_policy_document, static or dynamic."""
    for (rtype, name), body in module.data.items():
        if rtype != "aws_iam_policy_document":
            continue
        for st in blocks(body, "statement"):
            yield Statement(
                where=f"data.aws_iam_policy_document.{name}",
                sid=str(st.get("sid", "")),
                actions=_string_list(st.get("actions", [])),
                resources=_string_list(st.get("resources", [])),
            )


def statement(module: Module, sid: str) -> Statement:
    """The one policy statement with this sid."""
    matches = [s for s in policy_statements(module) if s.sid == sid]
    assert len(matches) == 1, sid
    return matches[0]


# ---------------------------------------------------------------------------
# Evaluating simple variable validations
# ---------------------------------------------------------------------------


def _contains(items, item):
    return item in items


def _try(*alternatives):
    return alternatives[0]


def validation_conditions(variable: dict) -> list[str]:
    return [v["condition"] for v in variable.get("validation", [])]


def validation_accepts(name: str, variable: dict, candidate: Any) -> bool:
    """Evaluate every validation of a variable against `candidate`.

    Handles the arithmetic, comparison, boolean, contains() and try()
    conditions the range validations use; raises on anything else rather
    than guessing.
    """
    conditions = validation_conditions(variable)
    assert conditions, f"variable {name} has no validation"
    env_value = SimpleNamespace(**candidate) if isinstance(candidate, dict) else candidate
    for cond in conditions:
        expr = cond.strip()
        assert expr.startswith("${") and expr.endswith("}"), cond
        expr = expr[2:-1]
        expr = re.sub(r"\bvar\.([a-z_0-9]+)", r"var_\1", expr)
        expr = expr.replace("&&", " and ").replace("||", " or ")
        expr = re.sub(r"!(?!=)", " not ", expr)
        expr = re.sub(r"\bcontains\(", "_contains(", expr)
        expr = re.sub(r"\btry\(", "_try(", expr)
        expr = re.sub(r"\bnull\b", "None", expr)
        expr = re.sub(r"\btrue\b", "True", expr)
        expr = re.sub(r"\bfalse\b", "False", expr)
        if re.search(r"\b(can|regex|length|alltrue|keys|values|formatdate)\(", expr):
            raise ValueError(f"cannot evaluate validation of {name}: {cond}")
        scope = {"_contains": _contains, "_try": _try, "None": None, "True": True, "False": False,
                 f"var_{name}": env_value}
        if not eval(expr, {"__builtins__": {}}, scope):  # noqa: S307 - our own config
            return False
    return True


def check_validation(name: str, variable: dict, accepted: list, rejected: list) -> None:
    """Fail unless the validations of a variable accept every candidate in
    `accepted` and reject every one in `rejected`."""
    for candidate in accepted:
        assert validation_accepts(name, variable, candidate), f"{name} must accept {candidate!r}"
    for candidate in rejected:
        assert not validation_accepts(name, variable, candidate), f"{name} must reject {candidate!r}"


# ---------------------------------------------------------------------------
# Text
# ---------------------------------------------------------------------------


def matching_paren(text: str, start: int) -> int:
    """Index of the ")" that closes the "(" at `start`."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "(":
            depth += 1
        elif text[i] == ")":
            depth -= 1
            if depth == 0:
                return i
    raise ValueError(f"unbalanced parentheses from offset {start}")


# ---------------------------------------------------------------------------
# cassandra/schema.cql
# ---------------------------------------------------------------------------


@dataclass
class CqlTable:
    name: str
    columns: dict[str, str]
    partition_key: list[str]
    clustering: list[tuple[str, str]]  # (column, ASC|DESC) in key order


def normalise_cql_type(t: str) -> str:
    t = re.sub(r"\s+", "", t.lower())
    return t.replace("varchar", "text")


def _strip_cql_comments(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"(--|//)[^\n]*", " ", text)
    return text


def _split_top_level(s: str) -> list[str]:
    parts, depth, cur = [], 0, []
    for ch in s:
        if ch in "(<":
            depth += 1
        elif ch in ")>":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur).strip())
            cur = []
        else:
            cur.append(ch)
    if "".join(cur).strip():
        parts.append("".join(cur).strip())
    return parts


def parse_cql_tables(text: str) -> dict[str, CqlTable]:
    text = _strip_cql_comments(text)
    tables: dict[str, CqlTable] = {}
    for m in re.finditer(r"CREATE\s+TABLE\s+(?:IF\s+NOT\s+EXISTS\s+)?([\w.\"]+)\s*\(", text, re.I):
        name = m.group(1).replace('"', "").split(".")[-1].lower()
        open_at = m.end() - 1
        close_at = matching_paren(text, open_at)
        body = text[open_at + 1 : close_at]
        tail = text[close_at + 1 : text.find(";", close_at) if ";" in text[close_at:] else len(text)]
        columns: dict[str, str] = {}
        pk_spec = None
        for part in _split_top_level(body):
            pk = re.match(r"PRIMARY\s+KEY\s*\((.*)\)\s*$", part, re.I | re.S)
            if pk:
                pk_spec = pk.group(1)
                continue
            col = re.match(r"\"?(\w+)\"?\s+(.+?)(\s+PRIMARY\s+KEY)?\s*$", part, re.I | re.S)
            assert col, f"cannot read column definition {part!r} of {name}"
            columns[col.group(1).lower()] = normalise_cql_type(col.group(2))
            if col.group(3):
                pk_spec = col.group(1)
        assert pk_spec, f"table {name} has no PRIMARY KEY"
        key_parts = _split_top_level(pk_spec)
        first = key_parts[0].strip()
        if first.startswith("("):
            partition = [c.strip().strip('"').lower() for c in first[1:-1].split(",")]
        else:
            partition = [first.strip('"').lower()]
        clustering_cols = [c.strip().strip('"').lower() for c in key_parts[1:]]
        order = {c: "ASC" for c in clustering_cols}
        co = re.search(r"CLUSTERING\s+ORDER\s+BY\s*\(([^)]*)\)", tail, re.I)
        if co:
            for item in co.group(1).split(","):
                bits = item.split()
                if bits:
                    order[bits[0].strip('"').lower()] = (bits[1].upper() if len(bits) > 1 else "ASC")
        tables[name] = CqlTable(
            name=name,
            columns=columns,
            partition_key=partition,
            clustering=[(c, order[c]) for c in clustering_cols],
        )
    return tables


# ---------------------------------------------------------------------------
# Terraform expression snippets
# ---------------------------------------------------------------------------


def env_keys(expression: str) -> set[str]:
    """Environment variable names that appear as map keys in an expression."""
    return set(re.findall(r"['\"]((?:LOGPIPE|RUST)_[A-Z_]*)['\"]\s*:", expression)) | set(
        re.findall(r"\b((?:LOGPIPE|RUST)_[A-Z_]*)\s*=", expression)
    )
