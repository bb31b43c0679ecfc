"""A small AST mutator (stdlib `ast`): the mutation sites of a Python module and the code of
each mutant.

Five operator classes, applied inside function bodies only (module and class level hold
imports and constants; a mutant there says nothing about the rules):
- `comparison`: `<` <-> `<=`, `>` <-> `>=`, `==` <-> `!=`, `in` <-> `not in`, `is` <-> `is not`;
- `arithmetic`: `+` <-> `-`, `*` -> `//`, `//` -> `*`, `%` -> `//`, `&` <-> `|`, `<<` <-> `>>`
  (in expressions and augmented assignments);
- `boolean`: `and` <-> `or`, `not x` -> `x`;
- `constant`: an integer n -> n + 1 and n - 1 (off by one), `True` <-> `False`;
- `statement`: one statement of a body replaced by `pass`.

Left alone, because a mutant there is a crash or a message, not a different rule: docstrings,
string constants and f-strings, annotations, `assert` statements, nested definitions and
imports, and `__repr__`/`__str__`. Sites are numbered in one fixed walk of the tree, so a
mutant is (file, site index) and the same source gives the same mutants in the same order.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass

CLASSES = ("comparison", "arithmetic", "boolean", "constant", "statement")

_COMPARE: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
_ARITH: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.FloorDiv,
    ast.FloorDiv: ast.Mult,
    ast.Mod: ast.FloorDiv,
    ast.BitAnd: ast.BitOr,
    ast.BitOr: ast.BitAnd,
    ast.LShift: ast.RShift,
    ast.RShift: ast.LShift,
}
_SYMBOL = {
    ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
    ast.In: "in", ast.NotIn: "not in", ast.Is: "is", ast.IsNot: "is not", ast.Add: "+",
    ast.Sub: "-", ast.Mult: "*", ast.FloorDiv: "//", ast.Mod: "%", ast.BitAnd: "&",
    ast.BitOr: "|", ast.LShift: "<<", ast.RShift: ">>", ast.And: "and", ast.Or: "or",
}  # fmt: skip
_UNTOUCHED_FUNCTIONS = frozenset({"__repr__", "__str__"})


@dataclass(frozen=True, slots=True)
class Site:
    """One mutation: where (the line of the statement it is in, for coverage), what class,
    and what it changes."""

    index: int  # position in the fixed walk of the module
    line: int  # the first line of the enclosing statement
    last_line: int  # its last line (of its header, for a compound statement)
    node_line: int
    op_class: str
    description: str  # e.g. "`<` -> `<=`"


class _Walker(ast.NodeTransformer):
    """One walk of a tree: lists every site, and with `apply_at` rewrites that one."""

    def __init__(self, apply_at: int | None = None) -> None:
        self.apply_at = apply_at
        self.sites: list[Site] = []
        self.in_function = 0
        self.span = (0, 0)  # the enclosing statement's lines (its header if compound)

    def _site(self, node: ast.AST, op_class: str, description: str) -> bool:
        """Record a site; True if it is the one to apply."""
        index = len(self.sites)
        first, last = self.span
        line = getattr(node, "lineno", first)
        self.sites.append(Site(index, first, last, line, op_class, description))
        return index == self.apply_at

    # -- scopes and what is left alone -------------------------------------------------------
    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        if node.name in _UNTOUCHED_FUNCTIONS or self.in_function:
            return node  # nested definitions: left alone (see the module docstring)
        self.in_function += 1
        node.body = self._body(node.body)
        self.in_function -= 1
        return node

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        if self.in_function:
            return node
        node.body = [self.visit(stmt) for stmt in node.body]
        return node

    def visit_Assert(self, node: ast.Assert) -> ast.AST:
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is not None:
            node.value = self.visit(node.value)
        return node

    def visit_Module(self, node: ast.Module) -> ast.AST:
        node.body = [self.visit(stmt) for stmt in node.body]
        return node

    def _body(self, body: list[ast.stmt]) -> list[ast.stmt]:
        out: list[ast.stmt] = []
        for stmt in body:
            if self.in_function and self._deletable(stmt):
                self.span = _span(stmt)
                if self._site(stmt, "statement", f"delete `{_first_line(stmt)}`"):
                    out.append(ast.copy_location(ast.Pass(), stmt))
                    continue
            out.append(self.visit(stmt))
        return out

    @staticmethod
    def _deletable(stmt: ast.stmt) -> bool:
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant):
            return False  # a docstring
        return not isinstance(
            stmt,
            ast.Pass | ast.Assert | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
            | ast.Import | ast.ImportFrom | ast.Global | ast.Nonlocal,
        )  # fmt: skip

    def generic_visit(self, node: ast.AST) -> ast.AST:
        if isinstance(node, ast.stmt):
            self.span = _span(node)
        for name, value in ast.iter_fields(node):
            if name in {"annotation", "returns", "type_comment"}:
                continue
            if isinstance(value, list):
                if value and isinstance(value[0], ast.stmt):
                    setattr(node, name, self._body(value))
                    if isinstance(node, ast.stmt):
                        self.span = _span(node)
                else:
                    setattr(node, name, [self._child(v) for v in value])
            elif isinstance(value, ast.AST):
                setattr(node, name, self._child(value))
        return node

    def _child(self, value: object) -> object:
        return self.visit(value) if isinstance(value, ast.AST) else value

    # -- the operators -----------------------------------------------------------------------
    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        if not self.in_function:
            return node
        for i, op in enumerate(node.ops):
            new = _COMPARE.get(type(op))
            if new is not None and self._site(
                node, "comparison", f"`{_SYMBOL[type(op)]}` -> `{_SYMBOL[new]}`"
            ):
                node.ops[i] = new()
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        self._arith(node)
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        self._arith(node)
        return node

    def _arith(self, node: ast.BinOp | ast.AugAssign) -> None:
        new = _ARITH.get(type(node.op))
        if not self.in_function or new is None:
            return
        if self._site(node, "arithmetic", f"`{_SYMBOL[type(node.op)]}` -> `{_SYMBOL[new]}`"):
            node.op = new()

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        if not self.in_function:
            return node
        new = ast.Or if isinstance(node.op, ast.And) else ast.And
        if self._site(node, "boolean", f"`{_SYMBOL[type(node.op)]}` -> `{_SYMBOL[new]}`"):
            node.op = new()
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if (
            self.in_function
            and isinstance(node.op, ast.Not)
            and self._site(node, "boolean", "`not x` -> `x`")
        ):
            return node.operand
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        if not self.in_function:
            return node
        value = node.value
        if isinstance(value, bool):
            if self._site(node, "constant", f"`{value}` -> `{not value}`"):
                return ast.copy_location(ast.Constant(not value), node)
        elif isinstance(value, int):
            for new in (value + 1, value - 1):
                if self._site(node, "constant", f"`{value}` -> `{new}`"):
                    return ast.copy_location(ast.Constant(new), node)
        return node


def _span(stmt: ast.stmt) -> tuple[int, int]:
    """A statement's lines; a compound statement's header only (its body is statements of
    their own)."""
    body = getattr(stmt, "body", None)
    if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
        return stmt.lineno, max(stmt.lineno, body[0].lineno - 1)
    return stmt.lineno, stmt.end_lineno or stmt.lineno


def _first_line(stmt: ast.stmt) -> str:
    text = ast.unparse(stmt).splitlines()[0]
    return text if len(text) <= 60 else text[:57] + "..."


def sites(source: str) -> list[Site]:
    """Every mutation site of `source`, in walk order."""
    walker = _Walker()
    walker.visit(ast.parse(source))
    return walker.sites


def mutate(source: str, index: int) -> ast.Module:
    """The tree of `source` with site `index` mutated (`sites(source)[index]`)."""
    walker = _Walker(apply_at=index)
    tree = walker.visit(ast.parse(source))
    if index >= len(walker.sites):
        raise IndexError(f"no mutation site {index} ({len(walker.sites)} sites)")
    return ast.fix_missing_locations(tree)


def mutant_source(source: str, index: int) -> str:
    """The mutant's source text (for reading it; the runner compiles the tree itself)."""
    return ast.unparse(mutate(source, index))
