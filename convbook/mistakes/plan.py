"""Which simulated student makes which mistakes, so that every recognised misconception of the
book is made by at least one student (convbook.demo's `mistakes-NN` students).

    from convbook.mistakes import plan
    plan.class_plan()          # {"mistakes-01": ["basics/correlate2d-flipped", ...], ...}
    plan.recognitions(keys)    # {(check name, misconception id), ...} that a student with
                               #   these mistakes must be told, and nothing else

A student's convlib is the reference with several catalogue entries applied. Entries of one
student must not interfere: no two wrong bodies for one target, no two entries graded by the
same check, and no entry whose check uses another entry's wrong piece (USES, below, measured
by making each piece raise and running every check). A wrong piece is recognised by every
check of an entry with the same piece (e.g. a wrong same_padding_amounts by checks 2.1 and
2.3): that is part of the plan too.
"""
from collections import defaultdict

from . import catalogue
from .uses import USES as _MEASURED

STUDENT_PREFIX = "mistakes-"


# {check name: {(module, target)}}: the catalogue's pieces each check calls, so that a wrong
# one there makes it fail (measured: `python -m convbook.mistakes.measure uses`).
USES = {check: {tuple(piece.split(":", 1)) for piece in pieces}
        for check, pieces in _MEASURED.items()}

# Pieces a check uses without failing when they raise (it then falls back on Keras's), but
# whose wrong values change what it expects: a wrong activation is built into the expected
# output, which then no longer shows the layer's own mistake. Found by running the plan.
_ACTIVATIONS = ("relu", "sigmoid", "tanh", "softmax", "elu", "gelu")
for _check in ("layer.check_conv2d_layer", "bias.check_add_bias_and_activate"):
    USES[_check] |= {("activations.py", name) for name in _ACTIVATIONS}


def pieces(entries=None):
    """{piece: [keys of the entries with that exact wrong code]} (a piece is what a student
    writes: module, target, parameters, body)."""
    out = defaultdict(list)
    for key, m in (entries or catalogue()).items():
        out[m.piece].append(key)
    return dict(out)


def recognitions(keys, entries=None):
    """{(check name, misconception id)} a convlib with the mistakes `keys` must be told: each
    entry's own, plus those of every entry with the same wrong code."""
    entries = entries or catalogue()
    by_piece = pieces(entries)
    out = set()
    for key in keys:
        for twin in by_piece[entries[key].piece]:
            out.add((entries[twin].check_name, entries[twin].misconception.id))
    return out


def _cover(entries):
    """A few pieces that, together, make every misconception id recognised: for each id not
    yet covered, the piece recognised by the most still-uncovered ids (ties: catalogue order)."""
    by_piece = pieces(entries)
    ids = {k: {entries[t].misconception.id for t in twins} for k, twins in by_piece.items()}
    wanted = {m.misconception.id for m in entries.values()}
    chosen = []
    while wanted:
        best = max(by_piece, key=lambda p: len(ids[p] & wanted))
        chosen.append(best)
        wanted -= ids[best]
    return chosen, by_piece


def _checks_and_targets(chosen, by_piece, entries):
    checks = {p: {entries[k].check_name for k in by_piece[p]} for p in chosen}
    return checks, {p: (p[0], p[1]) for p in chosen}


def conflicting_pieces(entries=None):
    """Keys of covering pieces that pairwise conflict (grown greedily from each piece, the
    largest kept): a class needs at least this many mistakes-NN students."""
    entries = entries or catalogue()
    chosen, by_piece = _cover(entries)
    checks, target = _checks_and_targets(chosen, by_piece, entries)
    clash = {p: {q for q in chosen if q != p
                 and _conflicts(checks[p], target[p], checks[q], target[q])} for p in chosen}
    best = []
    for p in chosen:
        group = [p]
        for q in sorted(clash[p], key=lambda q: -len(clash[q])):
            if all(q in clash[r] for r in group):
                group.append(q)
        best = max(best, group, key=len)
    return [by_piece[p][0] for p in best]


def _conflicts(a_checks, a_target, b_checks, b_target):
    """True if two pieces may not go to one student."""
    if a_target == b_target or a_checks & b_checks:
        return True
    return (any(b_target in USES.get(c, ()) for c in a_checks)
            or any(a_target in USES.get(c, ()) for c in b_checks))


def class_plan(entries=None):
    """{student: [entry keys]}: the covering pieces, busiest checks first, each given to the
    first student it does not conflict with (a new student when there is none).
    Deterministic: the same catalogue, the same plan.

    With the catalogue of 2026-11 this gives 36 students, as many as `conflicting_pieces()`
    finds pieces that pairwise conflict (11 Conv2D.__call__ mistakes, Conv2D's backward
    methods, train_step's, output_length's, ...): with these pieces, no plan does with
    fewer."""
    entries = entries or catalogue()
    chosen, by_piece = _cover(entries)
    checks, target = _checks_and_targets(chosen, by_piece, entries)
    load = defaultdict(int)
    for p in chosen:
        for c in checks[p]:
            load[c] += 1
    order = sorted(chosen, key=lambda p: -max(load[c] for c in checks[p]))
    students = []
    for p in order:
        for mine in students:
            if not any(_conflicts(checks[p], target[p], checks[q], target[q]) for q in mine):
                mine.append(p)
                break
        else:
            students.append([p])
    return {f"{STUDENT_PREFIX}{i:02d}": sorted((by_piece[p][0] for p in mine),
                                               key=list(entries).index)
            for i, mine in enumerate(students, 1)}


def affected_checks(keys, entries=None):
    """The checks that call a piece the mistakes `keys` make wrong (USES): the only checks a
    student with these mistakes may fail."""
    entries = entries or catalogue()
    wrong = {(entries[k].module, entries[k].target) for k in keys}
    return {check for check, used in USES.items() if wrong & set(used)}
