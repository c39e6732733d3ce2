"""One-to-one overlap matching of two annotators' spans (AGREEMENT.md rule 6).

Two spans *match* when they share at least one code point. Among all one-to-one matchings the
one with the largest total overlap (in code points) is chosen, among those the one with the most
identical-boundary pairs, and then the one with the most pairs. The objective is symmetric, so
A-vs-B and B-vs-A give the same number of matches (and the same partial credit).

Why not greedy (nervaluate): greedy can pair a long span with the wrong one of two neighbours and
leave both neighbours unmatched. Why not a plain assignment over all spans: the overlap graph of
two annotations falls apart into tiny clusters (usually one span each), so the spans are first
swept in start order to find the overlapping pairs (O(n log n) plus their number); when no span
overlaps two others there is nothing to choose; otherwise the clusters
are solved independently, and only a cluster that contains a cycle (nested or stacked spans)
needs the cubic assignment algorithm; a cluster without one — the usual case — is a tree and is
solved exactly by a linear dynamic programme. The commonest clusters (one span against two,
two against two) are solved in closed form, with the tie-breaks those algorithms would apply.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from itertools import accumulate

from projects.domain.agreement.records import Extent

__all__ = ["aligned_matching", "matching_size", "overlap_matching", "sorted_overlaps"]

_Edge = tuple[int, int, int]  # (index in a, index in b, weight)


def overlap_matching(a: Sequence[Extent], b: Sequence[Extent]) -> list[tuple[int, int]]:
    """Pairs ``(i, j)`` of indices into ``a`` and ``b``: the optimal one-to-one overlap matching.

    Extents are half-open; touching spans (``[0, 5)`` and ``[5, 9)``) do not overlap. The result
    is sorted by ``i``. Ties between equally good matchings are broken in one canonical
    orientation (the side whose sorted extents compare smaller goes first), so swapping the two
    annotators gives the mirrored matching and every figure built on it is symmetric.
    """
    if sorted(b) < sorted(a):
        return sorted((i, j) for j, i in _match(b, a, _overlapping_pairs(b, a)))
    return _match(a, b, _overlapping_pairs(a, b))


def sorted_overlaps(a: Sequence[Extent], b: Sequence[Extent]) -> list[_Edge]:
    """Every overlapping ``(i, j, overlap)`` of two *sorted* lists of extents, sorted by ``(i, j)``.

    The same sweep as for unsorted input without the indirection through a sort order: a
    comparison of two annotators computes these edges once and derives the alignment
    (:func:`aligned_matching`) and every label's matching (:func:`matching_size`) from them.
    """
    size = len(b)
    if not size or not a:
        return []
    reach = list(accumulate([end for _, end in b], max))
    edges: list[_Edge] = []
    low = 0
    for i, (start, end) in enumerate(a):
        while low < size and reach[low] <= start:
            low += 1
        for j in range(low, size):
            b_start, b_end = b[j]
            if b_start >= end:
                break
            if b_end > start:
                edges.append((i, j, (end if end < b_end else b_end) - max(start, b_start)))
    return edges


def aligned_matching(
    a: Sequence[Extent], b: Sequence[Extent], edges: list[_Edge]
) -> list[tuple[int, int]]:
    """:func:`overlap_matching` of two sorted lists of distinct extents, from their
    :func:`sorted_overlaps` ``edges``: the same pairs, tie-breaks included, without sweeping
    again."""
    if not edges:
        return []
    if b < a:
        # _overlapping_pairs(b, a) lists the same edges ordered by (j, i).
        mirrored = sorted([(j, i, w) for i, j, w in edges])
        return sorted((i, j) for j, i in _match(b, a, mirrored))
    return _match(a, b, edges)


def matching_size(a: Sequence[Extent], b: Sequence[Extent], edges: list[_Edge]) -> int:
    """How many pairs an optimal matching of ``edges`` (any subset of the overlaps of ``a`` and
    ``b``, e.g. one label's) has.

    The objective encodes (total overlap, identical pairs, pairs) lexicographically, so the size
    of an optimum does not depend on tie-breaks, on the orientation, nor on the spans that have
    no edge: this equals ``len(overlap_matching(a', b'))`` for the spans ``a'``, ``b'`` the edges
    touch.
    """
    if len(edges) == len({i for i, _, _ in edges}) == len({j for _, j, _ in edges}):
        return len(edges)
    return len(_match(a, b, edges))


def _match(a: Sequence[Extent], b: Sequence[Extent], edges: list[_Edge]) -> list[tuple[int, int]]:
    if not edges:
        return []
    degree_a = Counter([i for i, _, _ in edges])
    degree_b = Counter([j for _, j, _ in edges])
    if len(degree_a) == len(degree_b) == len(edges):
        # Every span overlaps at most one span of the other side (the usual case): nothing to
        # choose, every overlapping pair is matched.
        return sorted([(i, j) for i, j, _ in edges])
    # An edge whose spans overlap nothing else is a cluster of its own, matched as it is; the
    # other clusters keep their order and the order of their edges (tie-breaks depend on it).
    result = [(i, j) for i, j, _ in edges if degree_a[i] == 1 and degree_b[j] == 1]
    rest = [edge for edge in edges if degree_a[edge[0]] > 1 or degree_b[edge[1]] > 1]
    # Lexicographic objective in one integer: total overlap first, then pairs with identical
    # boundaries (so partial credit cannot depend on which optimum a tie-break happened to pick),
    # then the number of pairs.
    scale = len(a) + len(b) + 1
    weighted = [(i, j, (overlap * scale + (a[i] == b[j])) * scale + 1) for i, j, overlap in rest]
    for component in _components(weighted, len(a), len(b)):
        if len(component) == 2:
            result.append(_better_of_two(component[0], component[1]))
            continue
        nodes = len({i for i, _, _ in component}) + len({j for _, j, _ in component})
        if len(component) == 4 and nodes == 4:
            result.extend(_best_of_square(component))
        elif len(component) == nodes - 1:
            result.extend(_tree_matching(component))
        else:
            result.extend(_assignment_matching(component))
    result.sort()
    return result


def _overlapping_pairs(a: Sequence[Extent], b: Sequence[Extent]) -> list[_Edge]:
    """Every overlapping ``(i, j, overlap)`` by a sweep in start order.

    For a span of ``a``, the spans of ``b`` that can overlap it start before it ends, and come
    after the first ``b`` span whose running maximum end passes its start; that pointer only moves
    forward. Cost: O(n log n + pairs), plus, when one ``b`` span contains many others, a scan of
    the ones it contains.
    """
    order_b = sorted(range(len(b)), key=b.__getitem__)
    starts = [b[j][0] for j in order_b]
    ends = [b[j][1] for j in order_b]
    reach = list(accumulate(ends, max))
    size = len(order_b)
    edges: list[_Edge] = []
    low = 0
    for i in sorted(range(len(a)), key=a.__getitem__):
        start, end = a[i]
        while low < size and reach[low] <= start:
            low += 1
        for x in range(low, size):
            if starts[x] >= end:
                break
            if ends[x] > start:
                edges.append((i, order_b[x], min(end, ends[x]) - max(start, starts[x])))
    return edges


def _components(edges: list[_Edge], size_a: int, size_b: int) -> list[list[_Edge]]:
    """Split the bipartite overlap graph into connected components (union-find), in the order
    of their first edge, each keeping its edges' order."""
    parent = list(range(size_a + size_b))
    for i, j, _ in edges:
        x = i
        while parent[x] != x:
            parent[x] = x = parent[parent[x]]
        y = size_a + j
        while parent[y] != y:
            parent[y] = y = parent[parent[y]]
        if x != y:
            parent[y] = x
    groups: dict[int, list[_Edge]] = {}
    for edge in edges:
        x = edge[0]
        while parent[x] != x:
            x = parent[x]
        group = groups.get(x)
        if group is None:
            groups[x] = [edge]
        else:
            group.append(edge)
    return list(groups.values())


def _better_of_two(first: _Edge, second: _Edge) -> tuple[int, int]:
    """The matching of a cluster of two edges sharing one span (the commonest cluster after a
    single edge): the heavier edge, ties broken exactly as :func:`_tree_matching` breaks them
    (its root is the first edge's span in ``a``: when that span is the shared one, a tie keeps
    the first edge; when the shared span is in ``b``, it takes the second)."""
    if first[0] == second[0]:
        chosen = second if second[2] > first[2] else first
    else:
        chosen = first if first[2] > second[2] else second
    return chosen[0], chosen[1]


def _best_of_square(edges: list[_Edge]) -> list[tuple[int, int]]:
    """The matching of two spans on each side all overlapping each other (the commonest cycle:
    two annotators who both marked two overlapping spans), as :func:`_assignment_matching`
    finds it: of the two ways to pair them the heavier; on a tie, the first span of ``a`` keeps
    its heavier partner (the first on a tie), the way the algorithm's first row chooses."""
    weight = {(i, j): w for i, j, w in edges}
    i0, i1 = sorted({i for i, _, _ in edges})
    j0, j1 = sorted({j for _, j, _ in edges})
    straight = weight[(i0, j0)] + weight[(i1, j1)]
    crossed = weight[(i0, j1)] + weight[(i1, j0)]
    if straight > crossed or (straight == crossed and weight[(i0, j0)] >= weight[(i0, j1)]):
        return [(i0, j0), (i1, j1)]
    return [(i0, j1), (i1, j0)]


def _tree_matching(edges: list[_Edge]) -> list[tuple[int, int]]:
    """Maximum-weight matching on a tree by dynamic programming (linear in its size)."""
    adjacency: dict[int, list[tuple[int, int]]] = {}
    for i, j, weight in edges:
        adjacency.setdefault(i, []).append((-1 - j, weight))
        adjacency.setdefault(-1 - j, []).append((i, weight))
    root = edges[0][0]
    order: list[int] = []
    children: dict[int, list[tuple[int, int]]] = {}
    seen = {root}
    stack = [root]
    while stack:
        node = stack.pop()
        order.append(node)
        children[node] = [(c, w) for c, w in adjacency[node] if c not in seen]
        for child, _ in children[node]:
            seen.add(child)
            stack.append(child)
    free: dict[int, int] = {}  # best in the subtree with the node left unmatched
    best: dict[int, int] = {}  # best in the subtree, node matched to a child or not
    choice: dict[int, int | None] = {}
    for node in reversed(order):
        base = sum(best[c] for c, _ in children[node])
        free[node] = base
        best[node], choice[node] = base, None
        for child, weight in children[node]:
            candidate = base - best[child] + free[child] + weight
            if candidate > best[node]:
                best[node], choice[node] = candidate, child
    pairs: list[tuple[int, int]] = []
    todo: list[tuple[int, bool]] = [(root, False)]
    while todo:
        node, taken = todo.pop()
        partner = None if taken else choice[node]
        if partner is not None:
            pairs.append((node, -1 - partner) if node >= 0 else (partner, -1 - node))
        todo.extend((child, child == partner) for child, _ in children[node])
    return pairs


def _assignment_matching(edges: list[_Edge]) -> list[tuple[int, int]]:
    """Maximum-weight matching by the Hungarian algorithm (O(k^3) in the cluster size k)."""
    rows = sorted({i for i, _, _ in edges})
    cols = sorted({j for _, j, _ in edges})
    transpose = len(rows) > len(cols)
    if transpose:
        rows, cols = cols, rows
    row_index = {r: x for x, r in enumerate(rows)}
    col_index = {c: x for x, c in enumerate(cols)}
    n, m = len(rows), len(cols)
    weight = [[0] * m for _ in range(n)]
    for i, j, w in edges:
        r, c = (j, i) if transpose else (i, j)
        weight[row_index[r]][col_index[c]] = w
    # Classic potentials formulation (1-based), minimising cost = -weight.
    inf = float("inf")
    u = [0.0] * (n + 1)
    v = [0.0] * (m + 1)
    match_col = [0] * (m + 1)  # match_col[c] = row matched to column c
    way = [0] * (m + 1)
    for row in range(1, n + 1):
        match_col[0] = row
        col0 = 0
        minv = [inf] * (m + 1)
        used = [False] * (m + 1)
        while True:
            used[col0] = True
            row0 = match_col[col0]
            delta, col1 = inf, 0
            for col in range(1, m + 1):
                if not used[col]:
                    current = -weight[row0 - 1][col - 1] - u[row0] - v[col]
                    if current < minv[col]:
                        minv[col], way[col] = current, col0
                    if minv[col] < delta:
                        delta, col1 = minv[col], col
            for col in range(m + 1):
                if used[col]:
                    u[match_col[col]] += delta
                    v[col] -= delta
                else:
                    minv[col] -= delta
            col0 = col1
            if match_col[col0] == 0:
                break
        while col0:
            col1 = way[col0]
            match_col[col0] = match_col[col1]
            col0 = col1
    pairs: list[tuple[int, int]] = []
    for col in range(1, m + 1):
        row = match_col[col]
        if row and weight[row - 1][col - 1] > 0:
            r, c = rows[row - 1], cols[col - 1]
            pairs.append((c, r) if transpose else (r, c))
    return pairs
