#!/usr/bin/env python3
"""Writes the table of mod_wsgi-express's start-server options into
cli/README.md: for each one, whether `mod-wsgi-rs start-server` does it
(and how) or refuses it (and what to use instead).

    scripts/express_options_table.py /path/to/mod_wsgi-express [target/release/mod-wsgi-rs]

The list of options comes from `mod_wsgi-express start-server --help`,
plus the options it hides from its help (read from the option list of the
Python it runs), so that none is missed; what mod-wsgi-rs does comes from
its own `start-server --help`.
"""

import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
README = os.path.join(HERE, "..", "cli", "README.md")
BEGIN = "<!-- express-options:begin (scripts/express_options_table.py) -->"
END = "<!-- express-options:end -->"
REFUSED_HEADING = "mod_wsgi-express options refused"


def express_options(express):
    text = subprocess.run([express, "start-server", "--help"], capture_output=True,
                          text=True, check=True).stdout
    names = re.findall(r"^\s+(?:-h, )?(--[a-z0-9-]+)", text, re.M)
    with open(express) as f:
        shebang = f.readline()
    if shebang.startswith("#!"):
        python = shebang[2:].strip().split()[0]
        hidden = subprocess.run(
            [python, "-c", "import mod_wsgi.express.options as o\n"
             "for x in o.option_list: print(*x._long_opts)"],
            capture_output=True, text=True)
        if hidden.returncode == 0:
            names += hidden.stdout.split()
    return sorted(set(names), key=names.index)


def our_options(program):
    """{option: (refused, help)} from mod-wsgi-rs start-server --help."""
    text = subprocess.run([program, "start-server", "--help"], capture_output=True,
                          text=True, check=True).stdout
    out = {}
    refused = False
    current = None
    for line in text.splitlines():
        if line and not line.startswith(" "):
            refused = line.startswith(REFUSED_HEADING)
            current = None
            continue
        # Clap puts the help on the option's line when the section is
        # narrow enough, else on the lines below.
        m = re.match(r"^  (?:-h, |    )(--[a-z0-9-]+)((?: <[^>]+>)*)(?:\s{2,}(\S.*))?$", line)
        if m:
            current = [m.group(1), refused, [m.group(3)] if m.group(3) else []]
            out[current[0]] = current
            continue
        if current is not None and line.strip():
            current[2].append(line.strip())
    table = {}
    for name, refused, words in out.values():
        help_text = " ".join(words)
        aliases = re.findall(r"--[a-z0-9-]+", " ".join(re.findall(r"\[alias(?:es)?: ([^\]]*)\]",
                                                                   help_text)))
        help_text = re.sub(r"\s*\[(default|alias(?:es)?|possible values)[^\]]*\]", "", help_text)
        table[name] = (refused, help_text)
        for a in aliases:
            table[a] = (refused, "Same as %s." % name)
    return table


def table(express, program):
    ours = our_options(program)
    rows = ["| mod_wsgi-express option | mod-wsgi-rs | How / instead |", "|---|---|---|"]
    counts = {"works": 0, "refused": 0}
    for name in express_options(express):
        if name == "--help":
            refused, text = False, "Prints the options."
        elif name not in ours:
            raise SystemExit("mod-wsgi-rs start-server does not know %s: add it (or refuse it)"
                             % name)
        else:
            refused, text = ours[name]
        status = "refused" if refused else "works"
        counts[status] += 1
        text = text.replace("|", "\\|")
        rows.append("| `%s` | %s | %s |" % (name, status, text))
    summary = ("%d options: %d work, %d are refused with the alternative."
               % (sum(counts.values()), counts["works"], counts["refused"]))
    return summary + "\n\n" + "\n".join(rows) + "\n"


def main():
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    express = sys.argv[1]
    program = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        HERE, "..", "target", "release", "mod-wsgi-rs")
    with open(README) as f:
        readme = f.read()
    start, end = readme.index(BEGIN) + len(BEGIN), readme.index(END)
    readme = readme[:start] + "\n" + table(express, program) + readme[end:]
    with open(README, "w") as f:
        f.write(readme)


if __name__ == "__main__":
    main()
