"""The script attacks of issue 9, as sources, and what tests use to watch evaluator processes."""
from __future__ import annotations

import marshal
import threading
from typing import Any

from engine.sandbox import wire
from engine.sandbox.pool import EvaluatorPool

# The attacks of issue 9, each reproduced on the in-process sandbox.
MRO_ESCAPE = "raise KeyError.mro()[-2]('x')"
CPU_BOMB_AS_REPORTED = (
    "a1=list(range(100000))*10; a2=list(range(100000))*10; b1=[a1]*10; b2=[a2]*10; c1=[b1]*10; "
    "c2=[b2]*10; d1=[c1]*10; d2=[c2]*10; r=(d1==d2)"
)


# The same C-level comparison built without '*', so no guard sees it: only the evaluator's wall-clock
# bound can stop it (10**10 element comparisons inside one '==').
CPU_BOMB = "a1=list(range(100000))\na2=list(range(100000))\n" + "".join(
    f"{n}1=[{p}1,{p}1,{p}1,{p}1,{p}1,{p}1,{p}1,{p}1,{p}1,{p}1]\n{n}2=[{p}2,{p}2,{p}2,{p}2,{p}2,{p}2,{p}2,{p}2,{p}2,{p}2]\n"
    for p, n in (("a", "b"), ("b", "c"), ("c", "d"), ("d", "e"), ("e", "f"))
) + "r = (f1 == f2)"
CPU_BOMB_EXPRESSION = (
    "(lambda a1, a2: (lambda f: f(f(f(f(f(a1))))) == f(f(f(f(f(a2))))))"
    "(lambda x: [x, x, x, x, x, x, x, x, x, x]))(list(range(100000)), list(range(100000)))"
)
FSTRING_BOMB = "a='x'*1000000\nb=f'{a}{a}{a}{a}{a}{a}{a}{a}{a}{a}'\nc=f'{b}{b}{b}{b}{b}{b}{b}{b}{b}{b}'"
PERCENT_BOMB = "a='x'*1000000\nb=('%s'*10) % (a, a, a, a, a, a, a, a, a, a)"


# str() of an aliased list: a few hundred bytes of lists, a billion characters of text.
STR_BOMB = ("a=[0]*1000000\nb=[a,a,a,a,a,a,a,a,a,a]\nc=[b,b,b,b,b,b,b,b,b,b]\nd=[c,c,c,c,c,c,c,c,c,c]\n"
            "s=str(d)")
TASK_DATA_BOMB = "a=[0]*1000000\nb=[a]*10"
ALIASED_TASK_DATA = "a=list(range(100000))\nb=[a,a,a,a,a,a,a,a,a,a,a,a]"


def alive(pid: int) -> bool:
    """Whether the process runs (a zombie does not)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            return "State:\tZ" not in status.read()
    except FileNotFoundError:
        return False


def run_raw(evaluators: EvaluatorPool, code: Any, context: dict[str, Any] | None = None) -> dict[str, Any]:
    """An evaluator's answer to trusted compiled code (what restricted code could never send)."""
    request = {"op": "exec", "code": marshal.dumps(code), "traced": False, "time_limit": 2.0,
               "max_bytes": 100_000, "context": context or {}, "external": {}}
    return evaluators.evaluate(wire.dump_request(request), time_limit=2.0, max_answer=1_000_000)


def wait_for(condition: Any, attempts: int = 2000) -> None:
    """Poll until ``condition()`` holds (a bounded number of short waits, never a timing assertion)."""
    event = threading.Event()
    for _ in range(attempts):
        if condition():
            return
        event.wait(0.005)
    raise AssertionError("condition never became true")
