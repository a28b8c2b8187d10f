"""The Numba loops of :mod:`sgdbench.samplers.numba_streams` (imported on first use: importing
it imports Numba). Module-level functions, so Numba caches the compiled window on disk.

Philox4x32-10 (Salmon, Moraes, Dror & Shaw, SC 2011): ten rounds of two 32×32→64-bit
multiplies on a 128-bit counter under a 64-bit key; four 32-bit words per counter, each a
pure function of (key, counter), so any draw of any chain is computed without the draws
before it. Tests check it against the Random123 known-answer vectors. The 4×32 variant, not
NumPy's 4×64: Numba has no 128-bit product, and one built from 32-bit halves made a draw
2.5 times as dear (measured). Every constant is a NumPy uint64: a Python int beside a uint64
would turn the arithmetic into float64.
"""

from collections import namedtuple

import numba
import numpy as np

_M0 = np.uint64(0xD2511F53)  # Philox4x32 multipliers and Weyl key increments
_M1 = np.uint64(0xCD9E8D57)
_W0 = np.uint64(0x9E3779B9)
_W1 = np.uint64(0xBB67AE85)
_LOW = np.uint64(0xFFFFFFFF)
_32 = np.uint64(32)
_ZERO = np.uint64(0)
_ONE = np.uint64(1)
_TWO = np.uint64(2)
_THREE = np.uint64(3)
_NONE = np.uint64(0xFFFFFFFFFFFFFFFF)  # no counter's words held


@numba.njit(inline="always")
def philox(c0, c1, c2, c3, k0, k1):
    """The four 32-bit words (as uint64) of Philox4x32-10 at counter (c0, c1, c2, c3) under
    key (k0, k1), each word below 2^32."""
    for _ in range(10):
        p0, p1 = _M0 * c0, _M1 * c2
        c0, c1, c2, c3 = (p1 >> _32) ^ c1 ^ k0, p1 & _LOW, (p0 >> _32) ^ c3 ^ k1, p0 & _LOW
        k0 = (k0 + _W0) & _LOW
        k1 = (k1 + _W1) & _LOW
    return c0, c1, c2, c3


@numba.njit(inline="always")
def _lane(words, i):
    w0, w1, w2, w3 = words
    lane = i & _THREE
    return w0 if lane == _ZERO else (w1 if lane == _ONE else (w2 if lane == _TWO else w3))


@numba.njit(inline="always")
def _counter(i, domain, attempt, k0, k1):
    """The words of the counter holding draw ``i`` of ``domain``: (i div 4 as two words, domain,
    attempt)."""
    g = i >> _TWO
    return philox(g & _LOW, g >> _32, domain, attempt, k0, k1)


@numba.njit
def word(k0, k1, domain, i, attempt):
    """Draw number ``i`` of ``domain``, attempt ``attempt``: lane i mod 4 of its counter.
    Consecutive draws share one Philox call in the loops below."""
    return _lane(_counter(i, domain, attempt, k0, k1), i)


@numba.njit(inline="always")
def _accept(u, m):
    """Lemire's multiply-and-reject (2019) on the 32-bit word u for a uniform integer below
    m ≤ 2^32: the integer, or m when u is one of the 2^32 mod m rejected words (probability
    below m / 2^32)."""
    prod = u * m
    lo = prod & _LOW
    if lo < m and lo < ((_LOW + _ONE) - m) % m:
        return m
    return prod >> _32


@numba.njit(inline="always")
def _below(k0, k1, domain, i, m, cache, words):
    """A uniform integer below m from draw ``i`` of ``domain``; ``cache[0]`` names the counter
    whose four words are held in ``words`` (reused by the next three draws). A rejected word is
    redrawn from attempts 1, 2, … of the same draw."""
    g = i >> _TWO
    if cache[0] != g:
        words[0], words[1], words[2], words[3] = _counter(i, domain, _ZERO, k0, k1)
        cache[0] = g
    r = _accept(words[i & _THREE], m)
    attempt = _ONE
    while r == m:
        r = _accept(word(k0, k1, domain, i, attempt), m)
        attempt += _ONE
    return r


@numba.njit(inline="always")
def _advance(k0, k1, domain, perm, done, target, js):
    """Fisher–Yates on range(n) from the draws of ``domain``, run lazily: draw i (i = n − 1 … 1)
    picks j uniform in 0 … i and swaps perm[i] and perm[j], after which perm[i] is final. The
    order's position p is perm[n − 1 − p], so positions become final in reading order, and the
    shuffle runs only as far as the positions read: ``done`` positions are final; the result
    has position ``target`` final too. The draws come a chunk of counters at a time into ``js``
    (a multiple of 4 long), then the swaps: the draws do not wait on the swaps' loads and
    stores (5 times faster than interleaved, measured on one shuffle alone). Run lazily or
    whole, an rr stream cost the same (measured); lazily, a run that stops mid-epoch draws
    only what it reads."""
    n = perm.shape[0]
    if done == 0:
        for i in range(n):
            perm[i] = i
    span = js.shape[0] - 4  # draws per chunk: their counters fit in js
    while done <= target:
        i_hi = n - 1 - done
        if i_hi == 0:  # the last position takes what is left: no draw
            return n
        i_lo = max(1, i_hi - span + 1)
        g_lo = i_lo >> 2
        for g in range(g_lo, (i_hi >> 2) + 1):
            w0, w1, w2, w3 = philox(np.uint64(g) & _LOW, np.uint64(g) >> _32, domain, _ZERO, k0, k1)
            at, i = 4 * (g - g_lo), 4 * g  # draw i has m = i + 1
            js[at], js[at + 1] = _accept(w0, np.uint64(i + 1)), _accept(w1, np.uint64(i + 2))
            js[at + 2], js[at + 3] = _accept(w2, np.uint64(i + 3)), _accept(w3, np.uint64(i + 4))
        for i in range(i_hi, i_lo - 1, -1):
            j, m = js[i - 4 * g_lo], np.uint64(i + 1)
            attempt = _ONE
            while j == m:  # rejected: redraw from attempts 1, 2, …
                j = _accept(word(k0, k1, domain, np.uint64(i), attempt), m)
                attempt += _ONE
            j = np.int64(j)
            perm[i], perm[j] = perm[j], perm[i]
        done = n if i_lo == 1 else n - i_lo
    return done


# Kinds of stream (numba_streams.KINDS) and where an order's permutation comes from.
IID, SUBSETS, ORDERS = 0, 1, 2
FRESH, ONCE, STORED = 0, 1, 2
_TAG = np.uint64(0x5CD6)  # samplers.base._STREAM_TAG: streams apart from other uses of a seed

# Which rows a stream draws (see fill): read-only, so one tuple. The arrays the loop writes
# stay arguments of their own: written through a tuple member inside the parallel loop, the
# held permutations were not carried to the next window (Numba 0.68; measured: every window
# shuffled again, rr 1.4 times slower).
Law = namedtuple("Law", "n kind draw reverse drop")
_WORK = 5  # a block's uint64 work space: 4 words of one counter, the counter held, then picks, js


@numba.njit(parallel=True, cache=True, nogil=True)
def fill(keys, t0, out, law, perms, state, blocks):
    """Rows t0 … t0 + steps − 1 of every chain's stream into ``out`` (chains, steps, b) int32.

    ``keys`` (chains,) uint64 holds each chain's first key word (its seed); the second is the
    stream tag. ``law`` (:data:`Law`) says which rows: ``kind`` IID: draw t·b + j of domain 0 is index j of step t.
    SUBSETS: step t's b indices are a partial Fisher–Yates of range(n) on draws t·b … t·b + b − 1
    of domain 0 (swaps undone after the row, so the buffer is range(n) again). ORDERS: the epoch
    e of a position (``drop``: the first n // b rows of b of each epoch; otherwise the epochs
    concatenated) is epoch e mod k of block e // k, k = len(reverse); the block's order is the
    Fisher–Yates shuffle of domain block + 1 (``draw`` FRESH) or of domain 1 (ONCE) read from
    its last entry (:func:`_advance`), or range(n) (STORED); backwards where ``reverse[e mod k]``.

    ``perms`` (chains, n) int32 and ``state`` (chains, 2) int64 (held, done) carry each chain's buffer
    from one window to the next: ORDERS the permutation of block ``held`` (−1: none yet) with
    its first ``done`` positions final (:func:`_advance`), SUBSETS range(n) (``held`` 0 once it
    is set up). A window that starts mid-epoch then goes on with the epoch's permutation
    instead of shuffling it again (at R = 16,384, n = 1,000 a window is about an epoch, and the
    shuffle again doubled the cost of an rr stream; measured).

    The chains go in ``blocks`` blocks, one scratch set per block: allocating it per chain cost
    more than drawing a short window (measured at R = 16,384).
    """
    chains = out.shape[0]
    blocks = max(1, min(chains, blocks))
    for blk in numba.prange(blocks):
        work = np.empty(_WORK + out.shape[2] + (256 if law.kind == ORDERS else 0), dtype=np.uint64)
        for c in range(blk * chains // blocks, (blk + 1) * chains // blocks):
            work[4] = _NONE
            _chain(keys[c], t0, out, c, law, perms, state, work)


@numba.njit(inline="always")
def _chain(k0, t0, out, c, law, perms, state, work):
    """Chain c's rows of :func:`fill`, ``work`` its block's work space (see _WORK)."""
    steps, b = out.shape[1], out.shape[2]
    n, kind, k1, perm, held = law.n, law.kind, _TAG, perms[c], state[c]
    words, cache, picks = work[:4], work[4:5], work[_WORK : _WORK + b]
    if kind == IID:  # index j of step t is draw t·b + j: the window is draws t0·b, t0·b + 1, …
        flat, first = out[c].reshape(steps * b), t0 * b
        for k in range(steps * b):
            flat[k] = _below(k0, k1, _ZERO, np.uint64(first + k), np.uint64(n), cache, words)
    elif kind == SUBSETS:
        if held[0] < 0:
            for i in range(n):
                perm[i] = i
            held[0] = 0
        for t in range(steps):
            for j in range(b):
                p = j + np.int64(_below(k0, k1, _ZERO, np.uint64((t0 + t) * b + j), np.uint64(n - j), cache, words))
                picks[j] = np.uint64(p)
                perm[j], perm[p] = perm[p], perm[j]
                out[c, t, j] = perm[j]
            for j in range(b - 1, -1, -1):
                p = np.int64(picks[j])
                perm[j], perm[p] = perm[p], perm[j]
    else:
        _orders(k0, t0, out[c].reshape(steps * b), b, law, perm, held, work[_WORK + b :])


@numba.njit(inline="always")
def _orders(k0, t0, flat, b, law, perm, held, js):
    """An ORDERS chain's window, its rows one after another in ``flat``: a run of epochs, each
    read from a start position to its end (``length`` positions: n carried, n // b rows of b
    dropped) or to the window's end. Copied a run at a time in a tight loop; index by index, the
    epoch bookkeeping cost more than the shuffle (measured). ``held`` is the chain's (block
    whose permutation ``perm`` holds, positions final)."""
    n, draw, reverse, drop, k1 = law.n, law.draw, law.reverse, law.drop, _TAG
    block = reverse.shape[0]
    per = n // b
    length = per * b if drop else n
    e, pos = (t0 // per, (t0 % per) * b) if drop else ((t0 * b) // n, (t0 * b) % n)
    have, final = held[0], held[1]
    k, total = 0, flat.shape[0]
    while k < total:
        take = min(length - pos, total - k)
        src, back = (e // block if draw == FRESH else 0), reverse[e % block]
        if draw == STORED:
            for q in range(take):
                flat[k + q] = n - 1 - pos - q if back else pos + q
        else:
            if have != src:
                have, final = src, 0
            need = n - 1 if back else pos + take - 1  # read backwards, it must be whole
            if final <= need:
                final = _advance(k0, k1, np.uint64(src + 1), perm, final, need, js)
            if back:
                for q in range(take):
                    flat[k + q] = perm[pos + q]
            else:
                for q in range(take):
                    flat[k + q] = perm[n - 1 - pos - q]
        k += take
        pos += take
        if pos == length:
            e, pos = e + 1, 0
    held[0], held[1] = have, final
