"""Writing users' chats: one short first-person message per problem, batched.

A chat is assembled from the content bank (:mod:`agents.content`):

    [opener] problem. [connector] marker phrase. [joiner marker phrase.] [detail] [echo] closer

- the *idiolect* (opener, closer, personal detail, connector: one fixed choice per user, see
  :func:`sample_idiolect`) is the user's stable writing habit ("rotten apples");
- the problem statement comes from the domain's bank, the marker phrases from the 1-2 active
  markers, a detail from the user's idiolect or their region's details;
- users who absorbed the platform's phrasing (``echo``) repeat its advice in an echo template.

Randomness: exactly :data:`DRAWS_PER_CHAT` uniforms per chat (``rng.random((n, 12))``), whatever
the content, so the generator's state afterwards never depends on the text (common random
numbers across policies). Chats are 12-60 words.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from agents.content import ChatBank, People

__all__ = [
    "DRAWS_PER_CHAT",
    "IDIOLECT_COLUMNS",
    "MAX_WORDS",
    "MIN_WORDS",
    "sample_idiolect",
    "write_chats",
]

IDIOLECT_COLUMNS: tuple[str, ...] = ("opener", "closer", "detail", "connector")
DRAWS_PER_CHAT = 12
MIN_WORDS = 12
MAX_WORDS = 60

# Probabilities of the optional parts.
P_CONNECTOR = 0.7  # first marker phrase introduced with the user's connector
P_SECOND_MARKER = 0.65  # second active marker mentioned (when there is one)
P_OWN_DETAIL = 0.45  # the user's own idiolect detail ...
P_REGION_DETAIL = 0.30  # ... or one of their region's details
P_OWN_CLOSER = 0.8  # the user's habitual closer (else any closer)
P_EARLY_ECHO = 0.4  # echo right after the problem (else just before the closer)

_JOINERS = ("Also", "And", "Plus", "On top of that", "Oh and", "Not to mention")
_FRAMES = (
    "also, {d}.",
    "({d})",
    "oh and {d}.",
    "{d}, for context.",
    "side note: {d}.",
    "{d}, if that matters.",
    "not that it matters but {d}.",
)
_FRAME_PARTS = tuple(tuple(f.split("{d}")) for f in _FRAMES)
_FRAME_WORDS = tuple(len(f.replace("{d}", " ").split()) for f in _FRAMES)
_LONGEST_FRAME = max(range(len(_FRAMES)), key=_FRAME_WORDS.__getitem__)
_JOINER_WORDS = tuple(len(j.split()) for j in _JOINERS)


def sample_idiolect(bank: ChatBank, n: int, rng: np.random.Generator) -> np.ndarray:
    """Draw ``n`` users' fixed writing habits: (n, 4) int64 [opener, closer, detail, connector]."""
    highs = np.array(
        [len(bank.openers), len(bank.closers), len(bank.details), len(bank.connectors)],
        dtype=np.int64,
    )
    return rng.integers(0, highs, size=(n, 4), dtype=np.int64)


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def _low(s: str) -> str:
    """Lower the first letter unless the text starts with the pronoun I."""
    if s[:2] in ("I ", "I'") or not s:
        return s
    return s[:1].lower() + s[1:]


def _end(s: str) -> str:
    return s if s[-1:] in (".", "?", "!", ")") else s + "."


def _nwords(s: str) -> int:
    return len(s.split())


def write_chats(
    bank: ChatBank,
    people: People,
    domains: Sequence[str],
    markers: Sequence[Sequence[str]],
    idiolect: np.ndarray,
    region: np.ndarray,
    echo: Sequence[str | None],
    rng: np.random.Generator,
) -> list[str]:
    """Write one chat per row (see module docstring). Deterministic given ``rng``.

    ``domains[i]``: problem domain id; ``markers[i]``: 0-2 active marker ids; ``idiolect``:
    (n, 4) int rows from :func:`sample_idiolect`; ``region[i]``: region index;
    ``echo[i]``: None or a solution text the user absorbed from the platform.
    Draws exactly ``DRAWS_PER_CHAT * n`` uniforms from ``rng``.
    """
    n = len(domains)
    idi = np.asarray(idiolect)
    if idi.shape != (n, 4):
        raise ValueError(f"idiolect must have shape ({n}, 4), got {idi.shape}")
    if len(markers) != n or len(region) != n or len(echo) != n:
        raise ValueError("domains, markers, idiolect, region and echo must have the same length")
    u_all = rng.random((n, DRAWS_PER_CHAT)).tolist()
    if n == 0:
        return []
    idi_l = idi.tolist()
    reg_l = np.asarray(region).tolist()

    openers, closers, details, connectors = (
        bank.openers,
        bank.closers,
        bank.details,
        bank.connectors,
    )
    echoes = bank.echoes
    n_closers, n_echoes = len(closers), len(echoes)
    closer_w = [_nwords(c) for c in closers]
    detail_w = [_nwords(d) for d in details]
    conn_w = [_nwords(c) for c in connectors]
    echo_w = [len(e.replace("{solution}", " ").split()) for e in echoes]
    # opener: (text, words, continues-the-sentence)
    open_info = [(o, _nwords(o), bool(o) and o[-1] not in ".!?") for o in openers]
    problem_cache: dict[str, tuple[tuple[str, ...], list[int], list[str]]] = {}
    marker_cache: dict[str, tuple[tuple[str, ...], list[int]]] = {}
    region_details = [r.details for r in people.regions]
    region_detail_w = [[_nwords(d) for d in r.details] for r in people.regions]
    sol_w: dict[str, int] = {}

    def problems_of(d: str) -> tuple[tuple[str, ...], list[int], list[str]]:
        got = problem_cache.get(d)
        if got is None:
            try:
                ps = bank.problems[d]
            except KeyError:
                raise ValueError(f"no problems for domain {d!r} in the chat bank") from None
            got = (ps, [_nwords(p) for p in ps], [_low(p) for p in ps])
            problem_cache[d] = got
        return got

    def phrases_of(m: str) -> tuple[tuple[str, ...], list[int]]:
        got = marker_cache.get(m)
        if got is None:
            try:
                ph = people.markers[people.marker_index[m]].phrases
            except KeyError:
                raise ValueError(f"unknown marker id {m!r}") from None
            got = (ph, [_nwords(p) for p in ph])
            marker_cache[m] = got
        return got

    out: list[str] = []
    append = out.append
    for i in range(n):
        u = u_all[i]
        o_i, c_i, d_i, k_i = idi_l[i]
        lower_all = (o_i * 7 + c_i * 3 + d_i) % 4 == 0

        # opener + problem (always)
        opener, w_open, continues = open_info[o_i]
        ps, pw, plow = problems_of(domains[i])
        p_i = int(u[0] * len(ps))
        if continues:
            head = opener + " " + _end(plow[p_i])
        elif opener:
            head = opener + " " + _end(_cap(ps[p_i]))
        else:
            head = _end(_cap(ps[p_i]))
        words = w_open + pw[p_i]

        # closer (always)
        if u[10] < P_OWN_CLOSER:
            closer_i = c_i
        else:
            closer_i = int((u[10] - P_OWN_CLOSER) / (1.0 - P_OWN_CLOSER) * n_closers) % n_closers
        closer = _cap(closers[closer_i])
        words += closer_w[closer_i]

        # marker phrases (optional)
        mk = markers[i]
        m1 = m2 = ""
        w_m1 = w_m2 = 0
        if len(mk) >= 1:
            ph, phw = phrases_of(mk[0])
            j = int(u[1] * len(ph))
            if u[3] < P_CONNECTOR:
                m1 = _end(_cap(connectors[k_i] + " " + _low(ph[j])))
                w_m1 = conn_w[k_i] + phw[j]
            else:
                m1 = _end(_cap(ph[j]))
                w_m1 = phw[j]
            if len(mk) >= 2 and u[4] < P_SECOND_MARKER:
                ph2, phw2 = phrases_of(mk[1])
                j2 = int(u[2] * len(ph2))
                jn = int(u[4] / P_SECOND_MARKER * len(_JOINERS))
                m2 = _end(_JOINERS[jn] + " " + _low(ph2[j2]))
                w_m2 = _JOINER_WORDS[jn] + phw2[j2]

        # personal detail (optional)
        det = ""
        w_det = 0
        f_i = int(u[7] * len(_FRAMES))
        if u[5] < P_OWN_DETAIL:
            det, w_det = details[d_i], detail_w[d_i]
        elif u[5] < P_OWN_DETAIL + P_REGION_DETAIL:
            r = reg_l[i]
            rd = region_details[r]
            j = int(u[6] * len(rd))
            det, w_det = rd[j], region_detail_w[r][j]

        # echo of the platform's earlier advice (kept whenever given)
        sol = echo[i]
        ech = ""
        w_ech = 0
        if sol is not None:
            e_i = int(u[9] * n_echoes)
            w_sol = sol_w.get(sol)
            if w_sol is None:
                w_sol = sol_w[sol] = _nwords(sol)
            w_ech = echo_w[e_i] + w_sol
            ech_template = echoes[e_i]

        # keep within MAX_WORDS: drop the second marker, then the detail, then the first marker
        total = words + w_m1 + w_m2 + (w_det + _FRAME_WORDS[f_i] if det else 0) + w_ech
        if total > MAX_WORDS and m2:
            total -= w_m2
            m2 = ""
        if total > MAX_WORDS and det:
            total -= w_det + _FRAME_WORDS[f_i]
            det = ""
        if total > MAX_WORDS and m1:
            total -= w_m1
            m1 = ""
        if sol is not None:
            if total > MAX_WORDS:  # a very long absorbed solution: keep its beginning
                sol = " ".join(sol.split()[: max(1, w_sol - (total - MAX_WORDS))])
            ech = _end(_cap(ech_template.replace("{solution}", sol)))
        if total < MIN_WORDS:  # terse chats fall back on the user's own detail, spelled out
            if det:
                total -= w_det + _FRAME_WORDS[f_i]
            det, f_i = details[d_i], _LONGEST_FRAME
            total += detail_w[d_i] + _FRAME_WORDS[f_i]

        if det:
            a, b = _FRAME_PARTS[f_i]
            det = _cap(a + det + b)

        parts = [head]
        if ech and u[11] < P_EARLY_ECHO:
            parts.append(ech)
            ech = ""
        if det and u[8] < 0.5:
            parts.append(det)
            det = ""
        if m1:
            parts.append(m1)
        if m2:
            parts.append(m2)
        if det:
            parts.append(det)
        if ech:
            parts.append(ech)
        parts.append(closer)
        text = " ".join(parts)
        append(text.lower() if lower_all else text)
    return out
