"""Organizations, the model's agents: sectors and the Mesa agent that views one row of state.

The model keeps all state in numpy arrays, one per attribute, addressed by organization index
(so the kernels can work on whole fields at once); an :class:`Organization` reads and writes
its own row. Sectors follow Kania & Kramer (2011): nonprofits, public agencies, funders,
businesses and community groups.
"""

from __future__ import annotations

import itertools
import weakref
from typing import TYPE_CHECKING, Any

import mesa

if TYPE_CHECKING:
    from ci_sim.model.model import CollectiveImpactModel

SECTORS = ("nonprofit", "public_agency", "funder", "business", "community_group")
FUNDER = SECTORS.index("funder")
PUBLIC = SECTORS.index("public_agency")
COMMUNITY = SECTORS.index("community_group")
#: Mix of the non-funder sectors (shares).
GRANTEE_SECTOR_MIX = {"nonprofit": 0.45, "public_agency": 0.15, "business": 0.15,
                      "community_group": 0.25}
#: Sectors whose staff grows with public will (volunteers; Kania & Kramer 2011).
VOLUNTEER_SECTORS = (SECTORS.index("nonprofit"), COMMUNITY)


def _row(array: str, doc: str, *, scalar: bool = True) -> property:
    """A property that reads and writes row ``index`` of the model's array ``array``."""

    def read(self: Organization) -> Any:
        value = getattr(self.model, array)[self.index]
        return float(value) if scalar else value.copy()

    def write(self: Organization, value: Any) -> None:
        getattr(self.model, array)[self.index] = value

    return property(read, write, doc=doc)


class _IdCounters(weakref.WeakKeyDictionary):
    """Mesa's per-model agent-id counters, held weakly. Mesa before 3.4 keeps them in a plain
    dict on ``mesa.Agent``, which keeps every model ever built (and all its arrays) alive."""

    def __getitem__(self, model):
        try:
            return super().__getitem__(model)
        except KeyError:
            self[model] = counter = itertools.count(1)
            return counter


class Organization(mesa.Agent):
    """One organization: a view onto row ``index`` of the model's arrays.

    The model creates one per row when it is built; the field's size is
    ``organizations.count``. Organizations act together in the model's monthly phases, on
    whole arrays, so an organization has no ``step`` of its own, and one cannot leave or join
    mid-run: :meth:`step` and :meth:`remove` raise, as does creating one for a row that has
    one or does not exist.
    """

    _ids = _IdCounters()

    def __init__(self, model: CollectiveImpactModel, index: int) -> None:
        rows = len(model.sector)
        taken = len(getattr(model, "_organizations", ()))
        if index != taken or index >= rows:
            raise ValueError(
                f"Organization({index}): the model's {rows} organizations are built with it "
                f"(one per row, 0..{rows - 1}); set organizations.count to change the field's "
                f"size, organizations cannot join mid-run")
        super().__init__(model)
        self.index = index
        model._organizations.append(self)

    def step(self) -> None:
        """Refused: organizations act in the model's monthly phases; call ``model.step()``."""
        raise NotImplementedError(
            "Organization.step: organizations act together in the model's monthly phases; "
            "call model.step() to advance a month")

    def remove(self) -> None:
        """Refused: an organization cannot leave mid-run (it is a row of the model's arrays,
        funded, trusted and learnt from by the others)."""
        raise NotImplementedError(
            f"Organization.remove: organization {self.index} is a row of the model's arrays "
            f"(funded, trusted and learnt from by the others) and cannot leave mid-run; build "
            f"a model with a smaller organizations.count instead")

    @property
    def cell(self) -> Any:
        """This organization's cell in the model's network space (``model.grid``)."""
        return self.model.grid[self.index]

    sector = property(lambda self: SECTORS[self.model.sector[self.index]], doc="Sector name.")
    capacity = _row("capacity", "Staff, FTE.")
    funding = _row("funding", "Grants received last month, money units.")
    mission = _row("mission", "Weights over outcome areas the organization cares about.",
                   scalar=False)
    effort = _row("effort", "Current share of effort on each indicator.", scalar=False)
    commitment = _row("commitment", "Commitment to the common agenda (0..1).")
    strategy = _row("beliefs", "Held view (-1, 0, +1) on each strategy choice.", scalar=False)
    at_table = property(lambda self: bool(self.model.at_table[self.index]),
                        doc="Whether it takes part in the collaboration this month.")
    working_group = property(lambda self: int(self.model.group[self.index]),
                             doc="Its working group (-1: none).")
    strategy_score = property(lambda self: float(self.model.score[self.index]),
                              doc="Payoff of its strategy / best payoff.")
    mindsets = property(lambda self: {name: bool(self.model.mindsets[name][self.index])
                                      for name in self.model.mindsets},
                        doc="Which mindset shifts this organization has made.")
    rewards = property(lambda self: "attribution" if self.model.params.funding.rewards_attribution
                       > 0.5 else "portfolio fit", doc="What its funders mostly reward.")

    def trust_towards(self, other: Organization) -> float:
        """Trust this organization has in ``other`` (0..1)."""
        return float(self.model.trust_of(self.index, other.index))
