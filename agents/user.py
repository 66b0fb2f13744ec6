"""UserAgent: the Mesa face of one simulated person.

The state lives in the model's ``Population`` arrays so that a step is a few numpy calls
over all users; each agent reads and writes its own row, so ``model.agents`` works as Mesa
users expect (``agent.trust``, ``agent.repertoire``, ``model.agents.select(...)``).
"""

from __future__ import annotations

import mesa

from agents.population import Population


class UserAgent(mesa.Agent):
    """One person: region, markers, latent vector, curiosity, trust, repertoire, friends."""

    def __init__(self, model: mesa.Model, index: int, population: Population):
        super().__init__(model)
        self.index = index
        self._pop = population

    @property
    def region(self) -> int:
        return int(self._pop.region[self.index])

    @property
    def markers(self) -> list[int]:
        row = self._pop.markers[self.index]
        return row[row >= 0].tolist()

    @property
    def latent(self):
        return self._pop.latent[self.index]

    @property
    def curiosity(self) -> float:
        return float(self._pop.curiosity[self.index])

    @curiosity.setter
    def curiosity(self, value: float) -> None:
        self._pop.curiosity[self.index] = value

    @property
    def trust(self) -> float:
        return float(self._pop.trust[self.index])

    @trust.setter
    def trust(self, value: float) -> None:
        self._pop.trust[self.index] = value

    @property
    def repertoire(self) -> dict[int, tuple[int, float, bool]]:
        """domain -> (solution relied on, running success estimate, came from the platform)."""
        p, i = self._pop, self.index
        return {
            d: (int(s), float(p.rep_score[i, d]), bool(p.rep_machine[i, d]))
            for d, s in enumerate(p.rep_solution[i])
            if s >= 0
        }

    @property
    def idiolect(self) -> list[int]:
        return self._pop.idiolect[self.index].tolist()

    @property
    def friends(self) -> list[int]:
        """Indices of this user's friends in the social graph."""
        return self.model.friends.of(self.index).tolist()
