"""Turn a plain Processing sketch (.pde) into Java that javac compiles against Processing's core.jar.

The rule of shared/vendor/processing/README.md, as tested there: imports first, the body in a
PApplet subclass, size() moved into settings(), public methods, float literals, color and #RRGGBB,
int(...) as parseInt(...). Enough for rnnlab's example sketches (one tab, setup() and draw()).
"""

from __future__ import annotations

import re

SETTINGS = re.compile(r"^\s*(size|fullScreen|smooth|noSmooth|pixelDensity)\s*\(.*?\)\s*;\s*$", re.M)
METHOD = re.compile(r"^(?!public\b|private\b|protected\b|static\b|class\b|import\b|return\b|else\b|new\b)"
                    r"([A-Za-z_][\w<>\[\], ]*\s+[A-Za-z_]\w*\s*\([^;{]*\)\s*(throws [\w., ]+)?\s*\{)", re.M)
STRING_OR_COMMENT = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|//[^\n]*|/\*.*?\*/', re.S)
IMPORTS = ["processing.core.*", "processing.data.*", "processing.event.*", "processing.opengl.*",
           "java.util.*", "java.io.*"]


def fix_code(code: str) -> str:
    code = re.sub(r"(?<![\w.])(\d+\.\d*|\.\d+)(?:[eE][-+]?\d+)?(?![\w.])", lambda m: m.group(0) + "f", code)
    code = re.sub(r"\bcolor\b(?=\s+[A-Za-z_]|\s*\[)", "int", code)
    code = re.sub(r"#([0-9A-Fa-f]{6})\b", r"0xFF\1", code)
    return re.sub(r"(?<![\w.])(int|float|boolean|byte|char)\s*\(",
                  lambda m: "parse" + m.group(1).capitalize() + "(", code)


def pde_to_java(source: str, name: str) -> str:
    lines = source.splitlines()
    own_imports = [line for line in lines if line.startswith("import ")]
    body = "\n".join(line for line in lines if not line.startswith("import "))
    position, parts = 0, []
    for match in STRING_OR_COMMENT.finditer(body):
        parts += [fix_code(body[position:match.start()]), match.group(0)]
        position = match.end()
    body = "".join(parts) + fix_code(body[position:])
    if not re.search(r"\bvoid\s+settings\s*\(", body):
        calls = [m.group(0).strip() for m in SETTINGS.finditer(body)]
        body = "public void settings() {\n  " + "\n  ".join(calls) + "\n}\n" + SETTINGS.sub("", body)
    body = METHOD.sub(r"public \1", body)
    head = "".join(f"import {i};\n" for i in IMPORTS) + "\n".join(own_imports)
    return (f"{head}\n\npublic class {name} extends PApplet {{\n{body}\n"
            f"  public static void main(String[] args) {{ PApplet.main({name}.class, args); }}\n}}\n")
