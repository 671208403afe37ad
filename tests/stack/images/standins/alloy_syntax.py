"""A parser for the part of the Alloy configuration syntax the stand-in Alloy needs (tests/stack).

Blocks (`discovery.docker "label" { ... }`, nested blocks without a label), attributes
(`name = expression`), and expressions: strings, numbers, booleans, null, lists, objects
(`{ key = value, "key" = value }`) and references to other components' exports
(`discovery.docker.containers.targets`). `//`, `#` and `/* */` comments. Anything else (function
calls, operators) is a parse error naming the line, so a configuration the stand-in cannot read
fails the test stack instead of being half understood.
"""

import json
import re

_TOKEN = re.compile(r"""
    (?P<space>[ \t\r]+|\n)
  | (?P<comment>//[^\n]*|\#[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[{}\[\]=,.:()])
""", re.VERBOSE | re.DOTALL)


class SyntaxError_(ValueError):
    pass


class Reference:
    """A dotted name that points at a component's export, resolved when the graph runs."""

    def __init__(self, parts, line):
        self.parts = parts
        self.line = line

    def __repr__(self):
        return ".".join(self.parts)


class Block:
    def __init__(self, name, label, line):
        self.name = name
        self.label = label
        self.line = line
        self.attributes = {}
        self.blocks = []

    def children(self, name):
        return [b for b in self.blocks if b.name == name]


def _tokenize(text):
    tokens, line, pos = [], 1, 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise SyntaxError_(f"line {line}: unexpected character {text[pos]!r}")
        kind, value = m.lastgroup, m.group()
        if kind == "space" and value == "\n":
            tokens.append(("newline", value, line))
        elif kind not in ("space", "comment"):
            tokens.append((kind, value, line))
        line += value.count("\n")
        pos = m.end()
    tokens.append(("eof", "", line))
    return tokens


class _Parser:
    def __init__(self, text):
        self.tokens = _tokenize(text)
        self.i = 0

    def peek(self, skip_newlines=True):
        j = self.i
        while skip_newlines and self.tokens[j][0] == "newline":
            j += 1
        return self.tokens[j]

    def next(self, skip_newlines=True):
        while skip_newlines and self.tokens[self.i][0] == "newline":
            self.i += 1
        token = self.tokens[self.i]
        self.i += 1
        return token

    def expect(self, value):
        kind, got, line = self.next()
        if got != value:
            raise SyntaxError_(f"line {line}: expected {value!r}, found {got or kind!r}")

    def body(self, block, closing):
        while True:
            kind, value, line = self.peek()
            if (kind, value) == closing:
                self.next()
                return block
            if kind != "ident":
                raise SyntaxError_(f"line {line}: expected an attribute or a block, found {value or kind!r}")
            parts = [self.next()[1]]
            while self.peek(False)[1] == ".":
                self.next(False)
                kind, value, line = self.next(False)
                if kind != "ident":
                    raise SyntaxError_(f"line {line}: expected a name after '.'")
                parts.append(value)
            kind, value, line = self.next()
            if value == "=" and len(parts) == 1:
                if parts[0] in block.attributes:
                    raise SyntaxError_(f"line {line}: attribute {parts[0]!r} set twice")
                block.attributes[parts[0]] = self.expression()
                self.end_of_statement()
            elif kind == "string" or value == "{":
                label = json.loads(value) if kind == "string" else None
                if label is not None:
                    self.expect("{")
                block.blocks.append(self.body(Block(".".join(parts), label, line), ("punct", "}")))
            else:
                raise SyntaxError_(f"line {line}: expected '=' or a block after {'.'.join(parts)!r}")

    def end_of_statement(self):
        kind, value, line = self.peek(False)
        if kind in ("newline", "eof") or value == "}":
            return
        raise SyntaxError_(f"line {line}: expected a new line, found {value!r}")

    def expression(self):
        kind, value, line = self.next()
        if kind == "string":
            return json.loads(value)
        if kind == "number":
            return float(value) if "." in value else int(value)
        if value == "[":
            items = []
            while self.peek()[1] != "]":
                items.append(self.expression())
                if self.peek()[1] != ",":
                    break
                self.next()
            self.expect("]")
            return items
        if value == "{":
            obj = {}
            while self.peek()[1] != "}":
                kind, key, line = self.next()
                if kind not in ("ident", "string"):
                    raise SyntaxError_(f"line {line}: expected an object key, found {key!r}")
                self.expect("=")
                obj[json.loads(key) if kind == "string" else key] = self.expression()
                if self.peek()[1] != ",":
                    break
                self.next()
            self.expect("}")
            return obj
        if kind == "ident":
            if value in ("true", "false"):
                return value == "true"
            if value == "null":
                return None
            parts = [value]
            while self.peek(False)[1] == ".":
                self.next(False)
                parts.append(self.next(False)[1])
            if self.peek(False)[1] == "(":
                raise SyntaxError_(f"line {line}: function calls are not supported by the stand-in")
            return Reference(parts, line)
        raise SyntaxError_(f"line {line}: expected a value, found {value or kind!r}")


def parse(text):
    """The top-level blocks of an Alloy configuration file."""
    parser = _Parser(text)
    root = parser.body(Block("", None, 0), ("eof", ""))
    if root.attributes:
        name = next(iter(root.attributes))
        raise SyntaxError_(f"attribute {name!r} outside of a block")
    return root.blocks
