"""Reference pages written from the code at build time, so they cannot drift from it.

An mkdocs hook: `on_files` adds the generated pages (every command and flag from the CLI's own
parsers, presets, named corpora, the HTTP API from the server's OpenAPI schema, the run
directory from runs.py) and the benchmark plots drawn from the CSV tables in docs/benchmarks/.
"""

from __future__ import annotations

import argparse
import io
import textwrap
from pathlib import Path

from mkdocs.structure.files import File

DOCS = Path(__file__).resolve().parents[1]


def cell(text) -> str:
    """Text safe inside a Markdown table cell."""
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def shown_default(action: argparse.Action) -> str:
    if action.default in (None, argparse.SUPPRESS, False, []) or isinstance(action, argparse._HelpAction):
        return ""
    return f"`{action.default}`"


def options_table(parser: argparse.ArgumentParser, skip: set[str] = frozenset()) -> str:
    """One table per argument group: the flag (with its choices), the default and the help."""
    out = []
    for group in parser._action_groups:
        rows = []
        for action in group._group_actions:
            if isinstance(action, argparse._HelpAction) or action.dest in skip:
                continue
            if action.option_strings:
                names = ", ".join(f"`{s}`" for s in action.option_strings)
                if action.nargs != 0 and not isinstance(action, argparse.BooleanOptionalAction):
                    names += f" `{action.metavar or action.dest.split('.')[-1].upper()}`"
            else:
                names = f"`{action.metavar or action.dest.upper()}`"
            if action.choices and not isinstance(action, argparse._SubParsersAction):
                names += "<br>" + " \\| ".join(f"`{c}`" for c in action.choices)
            rows.append(f"| {names} | {shown_default(action)} | {cell(action.help or '')} |")
        if rows:
            title = group.title if group.title not in ("options", "optional arguments") else "options"
            out += [f"**{title}**", "", "| argument | default | what it does |", "|---|---|---|", *rows, ""]
    return "\n".join(out)


def cli_page() -> str:
    from rnnlab import cli
    from rnnlab.tasks import registry

    built = cli.build_parser()
    if isinstance(built, tuple):
        parser, parsers = built
    else:
        parser, parsers = built, {name: command.parser for name, command in cli.COMMANDS.items()}
    commands = cli.all_commands() if hasattr(cli, "all_commands") else cli.COMMANDS
    lines = ["# Commands", "",
             "Every command and flag, written from the parsers `rnnlab` itself runs (so this page is what "
             "`rnnlab COMMAND --help` prints, as tables). " + (parser.epilog or ""), "",
             "| command | what it does |", "|---|---|"]
    lines += [f"| [`rnnlab {name}`](#{name}) | {cell(command.help)} |" for name, command in commands.items()]
    lines.append("")
    for name, command in commands.items():
        lines += [f"## {name}", "", cell(command.help).capitalize() + ".", ""]
        if name == "train":
            lines += ["`rnnlab train` builds its parser for the task the run will be (from `--task`, the preset, "
                      "the named corpus or `--modality`), so each task takes only its own options; a flag of "
                      "another task is refused in one line.", "",
                      "```", cli.train_parser(registry.TASKS["lm"]).format_usage().strip(), "```", ""]
            for task in registry.TASKS.values():
                if not task.options:
                    continue
                p = cli.train_parser(task)
                lines += [f"### train --task {task.name}", "", f"{task.description}.", "", options_table(p), ""]
            continue
        usage = parsers[name].format_usage().replace("usage: ", "").strip()
        lines += ["```", " ".join(usage.split()), "```", "", options_table(parsers[name]), ""]
    return "\n".join(lines)


def presets_page() -> str:
    import rnnlab

    lines = ["# Presets", "", "Named recipes for `rnnlab train --preset NAME` and `rnnlab.train(preset=NAME)`, "
             "from `rnnlab.presets()`. Flags and keyword settings override them.", "",
             "| preset | data | model | train | other |", "|---|---|---|---|---|"]
    for name, recipe in rnnlab.presets().items():
        parts = {section: ", ".join(f"{k}={v}" for k, v in values.items()) for section, values in recipe.items()}
        other = "; ".join(f"{s}: {v}" for s, v in parts.items() if s not in ("data", "model", "train"))
        lines.append(f"| `{name}` | {cell(parts.get('data', ''))} | {cell(parts.get('model', ''))} | "
                     f"{cell(parts.get('train', ''))} | {cell(other)} |")
    return "\n".join(lines) + "\n"


def corpora_page() -> str:
    import rnnlab
    from rnnlab.data import corpora

    lines = ["# Named corpora", "", "What `rnnlab train NAME` and `rnnlab.train(NAME, ...)` take, from "
             "`rnnlab.corpora()`. `rnnlab data get NAME` downloads one with SHA-256 checks into "
             "`~/.cache/rnnlab`; `RNNLAB_DATA` points at a local copy instead.", "",
             "| name | task | recipe | what it is |", "|---|---|---|---|"]
    for name, description in rnnlab.corpora().items():
        named = corpora.CORPORA.get(name)
        task = named.task if named else "lm"
        recipe = f"`{named.preset}`" if named and named.preset else ""
        lines.append(f"| `{name}` | {task} | {recipe} | {cell(description)} |")
    return "\n".join(lines) + "\n"


def schema_type(schema: dict, components: dict) -> str:
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[-1]
    if "anyOf" in schema:
        kinds = [schema_type(s, components) for s in schema["anyOf"]]
        return " or ".join(k for k in kinds if k != "null") + (" (optional)" if "null" in kinds else "")
    kind = schema.get("type", "any")
    if kind == "array":
        kind = f"list of {schema_type(schema.get('items', {}), components)}"
    return kind


def http_page() -> str:
    from types import SimpleNamespace

    from rnnlab.serve.app import create_app
    from rnnlab.serve.sessions import ServeSettings

    spec = create_app(SimpleNamespace(settings=ServeSettings())).openapi()
    components = spec.get("components", {}).get("schemas", {})
    lines = ["# HTTP API", "", "Written from the server's own OpenAPI schema (`rnnlab serve` shows it live at "
             "`/docs`). Bodies are JSON. Errors: 401 without the token when one is required, 408 for a request "
             "too slow to arrive, 413 for a body over `--max-request-bytes`, 422 for a malformed body (with the "
             "reason), 503 when the server is full. The WebSocket and OSC messages are in "
             "[the protocol](protocol.md).", ""]
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            lines += [f"## {method.upper()} `{path}`", "", textwrap.dedent(op.get("description", op.get("summary", ""))), ""]
            params = op.get("parameters", [])
            if params:
                lines += ["| parameter | in | type |", "|---|---|---|"]
                lines += [f"| `{p['name']}` | {p['in']} | {schema_type(p.get('schema', {}), components)} |" for p in params]
                lines.append("")
            body = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
            if body and "$ref" in body:
                schema = components[body["$ref"].rsplit("/", 1)[-1]]
                required = set(schema.get("required", []))
                lines += ["| field | type | required | default | meaning |", "|---|---|---|---|---|"]
                for field, prop in schema.get("properties", {}).items():
                    default = f"`{prop['default']}`" if "default" in prop and prop["default"] is not None else ""
                    lines.append(f"| `{field}` | {cell(schema_type(prop, components))} | "
                                 f"{'yes' if field in required else ''} | {cell(default)} | "
                                 f"{cell(prop.get('description', ''))} |")
                lines.append("")
            codes = ", ".join(sorted(op.get("responses", {})))
            lines += [f"Responses: {codes}.", ""]
    return "\n".join(lines)


def api_page() -> str:
    """mkdocstrings directives for every public name in rnnlab.__all__, where each is defined."""
    import rnnlab

    lines = ["# Python API", "", "`import rnnlab` gives these names (`rnnlab.__all__`), written here from their "
             "docstrings; [the Python guide](../guides/python.md) shows them at work.", "",
             "::: rnnlab", "    options:", "      show_root_heading: false", "      members: false", ""]
    for name, module in rnnlab.PUBLIC.items():
        lines += [f"::: {module}.{name}", "    options:", "      show_root_heading: true",
                  "      show_root_full_path: false", ""]
    return "\n".join(lines)


def osc_verbs_line() -> str:
    from rnnlab.serve.osc import VERBS

    return ", ".join(f"`/rnnlab/{verb}`" for verb in VERBS)


def run_directory_page() -> str:
    import rnnlab.runs

    doc = rnnlab.runs.__doc__.strip().split("\n", 1)
    return "\n".join(["# The run directory", "", doc[0], "", "```", textwrap.dedent(doc[1]).strip(), "```", "",
                      (DOCS / "reference" / "run-directory.txt").read_text(encoding="utf-8")])


def benchmark_plots() -> dict[str, bytes]:
    """name -> PNG bytes, one per plot drawn from docs/benchmarks/*.csv."""
    from plots import draw_all

    return draw_all(DOCS / "benchmarks")


OPTIONAL_GUIDES = ("guides/install.md", "guides/audio.md", "guides/models.md")


def on_config(config):
    """Guides written alongside the code (install, audio, the shipped models) join the nav once they exist."""
    for entry in config["nav"] or []:
        if isinstance(entry, dict) and "Guides" in entry:
            guides = entry["Guides"]
            for uri in OPTIONAL_GUIDES:
                if (DOCS / uri).is_file() and uri not in str(guides):
                    guides.append(uri)
    return config


def on_files(files, config):
    import sys

    sys.path.insert(0, str(Path(__file__).parent))
    pages = {"reference/cli.md": cli_page(), "reference/api.md": api_page(), "reference/presets.md": presets_page(),
             "reference/corpora.md": corpora_page(), "reference/http.md": http_page(),
             "reference/run-directory.md": run_directory_page()}
    for uri, content in pages.items():
        files.append(File.generated(config, uri, content=content))
    for name, png in benchmark_plots().items():
        files.append(File.generated(config, f"benchmarks/{name}", content=png))
    return files


def on_page_markdown(markdown, page, config, files):
    """Fill the few facts a hand-written page takes from the code: {{ osc_verbs }}."""
    if "{{ osc_verbs }}" in markdown:
        markdown = markdown.replace("{{ osc_verbs }}", osc_verbs_line())
    return markdown
