#!/usr/bin/env python3
"""Renders `tmux capture-pane -e -p` output (text with SGR colour codes) as an SVG.

Usage: dashboard_ansi_to_svg.py < capture.ansi > screenshot.svg
Only the standard library: each run of equally styled cells becomes a <text> with a
fixed length, so columns line up whatever monospace font the viewer has.
"""
import html
import re
import sys
import unicodedata

CELL_W, CELL_H, FONT = 8.4, 17, 14
BASE = ["#1d1f21", "#cc6666", "#b5bd68", "#f0c674", "#81a2be", "#b294bb", "#8abeb7", "#c5c8c6",
        "#666666", "#ff7b7b", "#d7e07a", "#ffd98a", "#97bde0", "#d2a8e0", "#a3e0d8", "#ffffff"]
DEFAULT_FG, DEFAULT_BG = "#c5c8c6", "#1d1f21"


def xterm(n):
    if n < 16:
        return BASE[n]
    if n < 232:
        n -= 16
        steps = [0, 95, 135, 175, 215, 255]
        return "#%02x%02x%02x" % (steps[n // 36], steps[n // 6 % 6], steps[n % 6])
    grey = 8 + (n - 232) * 10
    return "#%02x%02x%02x" % (grey, grey, grey)


def apply_sgr(state, params):
    codes = [int(p) if p.isdigit() else 0 for p in params.split(";")] if params else [0]
    i = 0
    while i < len(codes):
        c = codes[i]
        if c == 0:
            state.update(fg=None, bg=None, bold=False, dim=False, italic=False, reverse=False, underline=False)
        elif c == 1:
            state["bold"] = True
        elif c == 2:
            state["dim"] = True
        elif c == 3:
            state["italic"] = True
        elif c == 4:
            state["underline"] = True
        elif c == 7:
            state["reverse"] = True
        elif c == 22:
            state.update(bold=False, dim=False)
        elif c == 23:
            state["italic"] = False
        elif c == 24:
            state["underline"] = False
        elif c == 27:
            state["reverse"] = False
        elif 30 <= c <= 37:
            state["fg"] = BASE[c - 30]
        elif 90 <= c <= 97:
            state["fg"] = BASE[c - 90 + 8]
        elif 40 <= c <= 47:
            state["bg"] = BASE[c - 40]
        elif 100 <= c <= 107:
            state["bg"] = BASE[c - 100 + 8]
        elif c == 39:
            state["fg"] = None
        elif c == 49:
            state["bg"] = None
        elif c in (38, 48) and i + 1 < len(codes):
            key = "fg" if c == 38 else "bg"
            if codes[i + 1] == 5 and i + 2 < len(codes):
                state[key] = xterm(codes[i + 2])
                i += 2
            elif codes[i + 1] == 2 and i + 4 < len(codes):
                state[key] = "#%02x%02x%02x" % tuple(codes[i + 2:i + 5])
                i += 4
        i += 1


def cells(line):
    """(char, width, style) for each character of a line."""
    state = dict(fg=None, bg=None, bold=False, dim=False, italic=False, reverse=False, underline=False)
    out = []
    for token in re.split(r"(\x1b\[[0-9;:]*[A-Za-z])", line):
        if token.startswith("\x1b["):
            if token.endswith("m"):
                apply_sgr(state, token[2:-1].replace(":", ";"))
            continue
        for ch in token:
            if unicodedata.combining(ch):
                continue
            width = 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
            out.append((ch, width, tuple(sorted(state.items()))))
    return out


def main():
    lines = sys.stdin.read().rstrip("\n").split("\n")
    columns = max((sum(w for _, w, _ in cells(l)) for l in lines), default=80)
    width, height = columns * CELL_W + 20, len(lines) * CELL_H + 20
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
             f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="DejaVu Sans Mono, Menlo, Consolas, monospace" '
             f'font-size="{FONT}">',
             f'<rect width="100%" height="100%" rx="6" fill="{DEFAULT_BG}"/>']
    for row, line in enumerate(lines):
        col = 0
        runs = []
        for ch, w, style in cells(line):
            if runs and runs[-1][2] == style:
                runs[-1][1].append(ch)
                runs[-1][3] += w
            else:
                runs.append([col, [ch], style, w])
            col += w
        y = 10 + row * CELL_H
        for start, chars, style, span in runs:
            s = dict(style)
            fg, bg = s["fg"] or DEFAULT_FG, s["bg"]
            if s["reverse"]:
                fg, bg = (bg or DEFAULT_BG), fg
            x = 10 + start * CELL_W
            if bg:
                parts.append(f'<rect x="{x:.1f}" y="{y}" width="{span * CELL_W:.1f}" height="{CELL_H}" fill="{bg}"/>')
            text = "".join(chars)
            if not text.strip():
                continue
            attrs = [f'fill="{fg}"']
            if s["bold"]:
                attrs.append('font-weight="bold"')
            if s["dim"]:
                attrs.append('opacity="0.6"')
            if s["italic"]:
                attrs.append('font-style="italic"')
            if s["underline"]:
                attrs.append('text-decoration="underline"')
            parts.append(f'<text x="{x:.1f}" y="{y + CELL_H - 4}" textLength="{span * CELL_W:.1f}" '
                         f'lengthAdjust="spacingAndGlyphs" xml:space="preserve" {" ".join(attrs)}>{html.escape(text)}</text>')
    parts.append("</svg>")
    sys.stdout.write("\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
