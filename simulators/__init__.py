"""Stand-ins for the outside systems PSCC CAD talks to, as real HTTP services.

One process serves five systems under path prefixes (`/telephony`, `/wsp`,
`/location`, `/cpe`, `/tcc`) plus a control API under `/_control` that lets
tests and the demo script data and misbehaviour (slow answers, 5xx, hangs).
See docs/simulators.md for the wire contract.

Standard library only, and nothing imported from the product: the
simulators must stay what the product cannot influence.
"""

from .server import RunningSimulators, start_simulators

__all__ = ["RunningSimulators", "start_simulators"]
