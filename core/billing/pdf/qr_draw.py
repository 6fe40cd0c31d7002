"""The payment QR code drawn into the PDF as vector rectangles."""

from __future__ import annotations

from fpdf import FPDF


def qr_runs(code) -> list[tuple[int, int, int, int]]:
    """The dark modules of a QR code as rectangles ``(col, row, width, height)`` in modules:
    horizontal runs, merged downwards while the next row has the same run."""
    matrix = [list(row) for row in code.matrix]
    n = len(matrix)
    rects: list[tuple[int, int, int, int]] = []
    open_runs: dict[tuple[int, int], int] = {}  # (first col, end col) -> first row

    def runs(row) -> set[tuple[int, int]]:
        found, col = set(), 0
        while col < n:
            if row[col]:
                start = col
                while col < n and row[col]:
                    col += 1
                found.add((start, col))
            else:
                col += 1
        return found

    for r in range(n + 1):
        current = runs(matrix[r]) if r < n else set()
        for run in [run for run in open_runs if run not in current]:
            first = open_runs.pop(run)
            rects.append((run[0], first, run[1] - run[0], r - first))
        for run in current:
            open_runs.setdefault(run, r)
    return rects


def draw_qr(pdf: FPDF, code, x: float, y: float, size: float) -> None:
    """Draw a segno QR code as one filled vector path.

    All dark modules (merged into rectangles by :func:`qr_runs`) go into a
    single path filled once, so no renderer shows seams between modules. The
    path operators are written directly (``re`` ... ``f``, exactly what
    ``FPDF.rect`` writes one at a time): fpdf2's drawing API builds an object
    per rectangle and costs about ten times more. The quiet zone is left to
    the surrounding white space: keep 4 modules clear.
    """
    n = len(code.matrix)
    module = size / n
    k = pdf.k
    top = pdf.h * k
    ops = ["q 0 g"]
    for col, row, w, h in qr_runs(code):
        ops.append(
            f"{(x + col * module) * k:.3f} {top - (y + row * module) * k:.3f} "
            f"{w * module * k:.3f} {-h * module * k:.3f} re"
        )
    ops.append("f Q")
    pdf._out("\n".join(ops))  # pylint: disable=protected-access
