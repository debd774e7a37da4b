"""Test-only shim: hypothesis-jsonschema 0.23.1 (used by schemathesis to generate data) calls the old
`hypothesis.internal.conjecture.utils.many(...).more()` API, which hypothesis 6.170 (the locked
version) replaced with a context-manager iterator. Without this every object schema (query
parameters, JSON bodies) fails with "'many' object has no attribute 'more'".

`install()` gives hypothesis-jsonschema — and only it — the old interface, written against the
ConjectureData methods that still exist (start_span / stop_span / draw_boolean / mark_invalid).
Remove this file once hypothesis-jsonschema is released for the new API (or hypothesis is pinned
below the change).
"""

from __future__ import annotations

import types

import hypothesis.internal.conjecture.utils as real_cu


class _OldMany:
    def __init__(self, data, min_size, max_size, average_size, *, forced=None):
        self.data, self.min_size, self.max_size, self.forced_size = data, min_size, max_size, forced
        self.p_continue = real_cu._calc_p_continue(average_size - min_size, max_size - min_size)
        self.count = 0
        self.rejections = 0
        self.drawn = False
        self.force_stop = False
        self.rejected = False

    def _stop(self):
        if self.drawn:
            self.data.stop_span(discard=self.rejected)

    def more(self) -> bool:
        self._stop()
        self.drawn, self.rejected = True, False
        self.data.start_span(real_cu.ONE_FROM_MANY_LABEL)
        if self.min_size == self.max_size:
            go_on = self.count < self.min_size
        elif self.force_stop:
            go_on = False
        else:
            forced = None
            if self.count < self.min_size:
                forced = True
            elif self.count >= self.max_size:
                forced = False
            elif self.forced_size is not None:
                forced = self.count < self.forced_size
            go_on = self.data.draw_boolean(self.p_continue, forced=forced)
        if go_on:
            self.count += 1
            return True
        self._stop()
        self.drawn = False
        return False

    def reject(self, why=None) -> None:
        self.count -= 1
        self.rejections += 1
        self.rejected = True
        if self.rejections > max(3, 2 * self.count):
            if self.count < self.min_size:
                self.data.mark_invalid(why)
            else:
                self.force_stop = True


def install() -> None:
    import hypothesis_jsonschema._from_schema as from_schema

    if hasattr(real_cu.many, "more") or getattr(from_schema.cu, "_pscc_shim", False):
        return
    shim = types.ModuleType("hypothesis_jsonschema_cu_shim")
    shim.__dict__.update(real_cu.__dict__)
    shim.many = _OldMany
    shim._pscc_shim = True
    from_schema.cu = shim
